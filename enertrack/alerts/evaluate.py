"""The pure judge: a rule's track (its state between cycles) and new readings in, episodes out.

Every reading counts (not a mean over the duration): a rule fires when every reading from
the first one outside the limit to one at least `for_s` later is outside, judged on the
readings' own timestamps, and resolves the same way once they are back inside by the
hysteresis. docs/alerts.md says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from enertrack.alerts.rules import Kind, RuleSpec

OK, PENDING, FIRING, RECOVERING = "ok", "pending", "firing", "recovering"
STATES = (OK, PENDING, FIRING, RECOVERING)


@dataclass(frozen=True, slots=True)
class Track:
    """One rule on one node between two evaluations (persisted, so a restart resumes it)."""

    state: str = OK
    since: int | None = None  # when the current pending/recovering run began; offline: when it fired
    last_ts: int | None = None  # the newest reading judged: the next cycle starts after it
    day: int | None = None  # energy-day: the local day (its start) a firing belongs to


@dataclass(frozen=True, slots=True)
class Event:
    """One edge of an episode: it started firing, or it resolved, at ts with this value."""

    state: Literal["firing", "resolved"]
    ts: int
    value: float | None = None


def _one(spec: RuleSpec, track: Track, ts: int, value: float, gap_s: int) -> tuple[Track, Event | None]:
    """Judge one reading."""
    state, since = track.state, track.since
    gapped = track.last_ts is not None and ts - track.last_ts > gap_s
    if gapped and state == PENDING:
        state, since = OK, None  # no readings for a while: the run is unproven, start again
    elif gapped and state == RECOVERING:
        state, since = FIRING, None
    event = None
    if state == OK and spec.breached(value):
        state, since = PENDING, ts
    elif state == PENDING and not spec.breached(value):
        state, since = OK, None
    elif state == FIRING and spec.cleared(value):
        state, since = RECOVERING, ts
    elif state == RECOVERING and not spec.cleared(value):
        state, since = FIRING, None
    if state == PENDING and ts - since >= spec.for_s:  # type: ignore[operator]
        state, since, event = FIRING, None, Event("firing", ts, value)
    elif state == RECOVERING and ts - since >= spec.for_s:  # type: ignore[operator]
        state, since, event = OK, None, Event("resolved", ts, value)
    return replace(track, state=state, since=since, last_ts=ts), event


def judge_readings(spec: RuleSpec, track: Track, samples: Iterable[tuple[int, float]],
                   gap_s: int) -> tuple[Track, list[Event]]:
    """Feed (ts, value) samples newer than the track's cursor, oldest first; a gap > gap_s breaks a run."""
    events: list[Event] = []
    for ts, value in samples:
        if track.last_ts is not None and ts <= track.last_ts:
            continue  # already judged (a restart re-reads from the cursor)
        track, event = _one(spec, track, ts, value, gap_s)
        if event is not None:
            events.append(event)
    return track, events


def _down_since(last: int, window_s: int, offline_at: int | None, before: int | None) -> int:
    """When a node that last reported at `last` counts as disconnected (the panel's status rule)."""
    start = last + window_s
    if offline_at is not None and last <= offline_at and (before is None or offline_at < before):
        start = min(start, offline_at)  # its Last Will said so sooner
    return start


def judge_offline(spec: RuleSpec, track: Track, reading_ts: Sequence[int], now: int, window_s: int,
                  offline_at: int | None = None) -> tuple[Track, list[Event]]:
    """Offline episodes from reading timestamps (gaps included, so downtime of the service is caught up)."""
    events: list[Event] = []
    state, last, fired = track.state, track.last_ts, track.since
    for ts in reading_ts:
        if last is not None and ts <= last:
            continue
        if state == FIRING:
            # A reading stored late may predate the firing: the episode still ends after it began.
            events.append(Event("resolved", max(ts, fired or ts)))
            state, fired = OK, None
        elif last is not None:
            start = _down_since(last, window_s, offline_at, ts)
            if ts - start >= spec.for_s and ts > start:  # a whole outage between two readings
                events += [Event("firing", start + spec.for_s), Event("resolved", ts)]
        last = ts
    if state == OK and last is not None:
        start = _down_since(last, window_s, offline_at, None)
        if now - start >= spec.for_s and now > start:
            fired = start + spec.for_s
            events.append(Event("firing", fired))
            state = FIRING
    return replace(track, state=state, since=fired, last_ts=last), events


def judge_energy_days(spec: RuleSpec, track: Track,
                      days: Sequence[tuple[int, float, int]]) -> tuple[Track, list[Event]]:
    """Days as (local day start, kWh so far, ts to report), oldest first: one firing per day over budget.

    The budget only grows within a day, so the duration does not apply; the episode resolves
    when the next day starts.
    """
    events: list[Event] = []
    for day_start, kwh, ts in days:
        if track.day is not None and day_start < track.day:
            continue
        if track.state == FIRING and track.day != day_start:
            events.append(Event("resolved", day_start))
            track = replace(track, state=OK)
        if track.state == OK and kwh > spec.threshold:  # type: ignore[operator]
            events.append(Event("firing", ts, kwh))
            track = replace(track, state=FIRING)
        track = replace(track, day=day_start, last_ts=max(ts, track.last_ts or ts))
    return track, events


def judge(spec: RuleSpec, track: Track, **inputs: object) -> tuple[Track, list[Event]]:
    """Dispatch on the rule's kind (the engine passes the inputs that kind needs)."""
    if spec.kind is Kind.OFFLINE:
        return judge_offline(spec, track, **inputs)  # type: ignore[arg-type]
    if spec.kind is Kind.ENERGY_DAY_ABOVE:
        return judge_energy_days(spec, track, **inputs)  # type: ignore[arg-type]
    return judge_readings(spec, track, **inputs)  # type: ignore[arg-type]
