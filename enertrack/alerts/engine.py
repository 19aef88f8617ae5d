"""One evaluation cycle: every active rule on each of its nodes, state and events in the users database.

Each (rule, node) is judged in its own transaction that saves the new track, the events and
their outbox rows together, so a crash repeats nothing it committed and loses nothing it did not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from enertrack.alerts.evaluate import Event, Track, judge
from enertrack.alerts.messages import limit_text
from enertrack.alerts.quiet import in_quiet_hours
from enertrack.alerts.rules import MAGNITUDE, Kind, RuleSpec
from enertrack.core.calendar import day_start, today
from enertrack.core.status import active_window
from enertrack.models import AlertEvent, AlertRule, AlertTrack, Delivery, Node, NotifySettings, User
from enertrack.store.base import TimeseriesStore

log = logging.getLogger("enertrack.alerts")


def spec_of(rule: AlertRule) -> RuleSpec:
    """The pure spec a stored rule describes."""
    return RuleSpec(Kind(rule.kind), rule.for_s, rule.threshold, rule.minimum, rule.maximum)


def _epoch(moment: object) -> int | None:
    return int(moment.replace(tzinfo=UTC).timestamp()) if moment is not None else None  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Target:
    """A node a rule watches, with what the judge needs to know about it."""

    node_id: str
    interval_s: int
    offline_at: int | None


def _targets(db: Session, rule: AlertRule) -> list[Target]:
    query = select(Node).where(Node.owner_id == rule.owner_id)
    if rule.node_id is not None:
        query = query.where(Node.node_id == rule.node_id)
    return [Target(n.node_id, n.interval_s, _epoch(n.last_status_at) if n.last_status == "offline" else None)
            for n in db.scalars(query.order_by(Node.node_id))]


def _energy_days(store: TimeseriesStore, spec_track: Track, node_id: str, tz_name: str, start: int,
                 now: int) -> list[tuple[int, float, int]]:
    """(local day start, kWh, report ts) from the track's day (or the rule's start) to today."""
    tz = ZoneInfo(tz_name)
    first = today(tz_name, spec_track.day if spec_track.day is not None else start)
    last = today(tz_name, now)
    dates = [first + timedelta(days=i) for i in range((last - first).days + 2)]
    bounds = [day_start(d, tz) for d in dates]
    frame = store.energy([node_id], bounds)
    kwh = dict(zip(frame["period_start"].tolist(), frame["energy_kwh"].tolist(), strict=True))
    return [(bounds[i], float(kwh.get(bounds[i], 0.0)), min(now, bounds[i + 1] - 1)) for i in range(len(bounds) - 1)]


def _inputs(store: TimeseriesStore, rule: AlertRule, spec: RuleSpec, track: Track, target: Target,
            tz_name: str, now: int) -> tuple[Track, dict[str, object]]:
    """What judge() needs for this kind, read from the store (readings after the track's cursor)."""
    if spec.kind is Kind.ENERGY_DAY_ABOVE:
        return track, {"days": _energy_days(store, track, target.node_id, tz_name, rule.active_since, now)}
    window = active_window(target.interval_s)
    if spec.kind is Kind.OFFLINE and track.last_ts is None:
        # A node already silent when the rule began counts as disconnected from then at the
        # earliest: an outage before the rule existed is not the rule's to report.
        latest = store.latest([target.node_id]).get(target.node_id)
        if latest is not None and latest.ts < rule.active_since:
            track = replace(track, last_ts=max(latest.ts, rule.active_since - window))
    start = rule.active_since if track.last_ts is None else track.last_ts + 1
    readings = list(store.readings(target.node_id, start, now + 1))
    if spec.kind is Kind.OFFLINE:
        return track, {"reading_ts": [r.ts for r in readings], "now": now, "window_s": window,
                       "offline_at": target.offline_at}
    magnitude = MAGNITUDE[spec.kind]
    samples = [(r.ts, v) for r in readings if (v := getattr(r, magnitude)) is not None]
    return track, {"samples": samples, "gap_s": window}


def _channels(db: Session, user_id: int, email_ready: bool) -> list[str]:
    notify = db.get(NotifySettings, user_id)
    if notify is None:
        return []
    found = ["email"] if notify.email and email_ready else []
    return found + (["webhook"] if notify.webhook_url else [])


def _record(db: Session, rule: AlertRule, owner: User, node_id: str, events: Iterable[Event], now: int,
            email_ready: bool) -> list[int]:
    """Insert events and, per configured channel, their outbox rows (held during quiet hours)."""
    channels = _channels(db, owner.id, email_ready)
    notify = db.get(NotifySettings, owner.id)
    quiet = notify is not None and in_quiet_hours(now, owner.timezone, notify.quiet_start, notify.quiet_end)
    text = limit_text(spec_of(rule))
    ids: list[int] = []
    for event in events:
        row = AlertEvent(owner_id=owner.id, rule_id=rule.id, node_id=node_id, kind=rule.kind, state=event.state,
                         ts=event.ts, value=event.value, limit_text=text)
        db.add(row)
        db.flush()
        ids.append(row.id)
        for channel in channels:
            db.add(Delivery(user_id=owner.id, event_id=row.id, channel=channel,
                            status="held" if quiet else "pending", attempts=0, summary_of=1, detail=""))
    return ids


def _judge_one(factory: sessionmaker[Session], store: TimeseriesStore, rule_id: int, target: Target, now: int,
               email_ready: bool) -> list[int]:
    with factory() as db, db.begin():
        rule = db.get(AlertRule, rule_id)
        if rule is None or rule.paused:
            return []
        owner = db.get(User, rule.owner_id)
        row = db.scalar(select(AlertTrack).where(AlertTrack.rule_id == rule_id, AlertTrack.node_id == target.node_id))
        if row is None:
            row = AlertTrack(rule_id=rule_id, node_id=target.node_id, state="ok")
            db.add(row)
        track = Track(row.state, row.since, row.last_ts, row.day)
        spec = spec_of(rule)
        track, inputs = _inputs(store, rule, spec, track, target, owner.timezone, now)
        track, events = judge(spec, track, **inputs)
        row.state, row.since, row.last_ts, row.day = track.state, track.since, track.last_ts, track.day
        return _record(db, rule, owner, target.node_id, events, now, email_ready)


def evaluate(factory: sessionmaker[Session], store: TimeseriesStore, now: int, *, email_ready: bool) -> list[int]:
    """Judge every active rule on each of its nodes at `now`; the ids of the events it created."""
    with factory() as db:
        work = [(rule.id, target) for rule in db.scalars(select(AlertRule).where(AlertRule.paused.is_(False))
                                                          .order_by(AlertRule.id))
                for target in _targets(db, rule)]
    created: list[int] = []
    for rule_id, target in work:
        try:
            created += _judge_one(factory, store, rule_id, target, now, email_ready)
        except Exception:  # one broken rule or node must not stop the others; the next cycle retries it
            log.exception("alert rule %s on node %s could not be judged", rule_id, target.node_id)
    return created
