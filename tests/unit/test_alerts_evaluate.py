"""The pure alert judge: episodes from readings, table-driven, with an injected clock."""

from __future__ import annotations

import pytest

from enertrack.alerts.evaluate import (
    FIRING,
    OK,
    PENDING,
    RECOVERING,
    Event,
    Track,
    judge_energy_days,
    judge_offline,
    judge_readings,
)
from enertrack.alerts.rules import Kind, RuleSpec

LOW = RuleSpec(Kind.VOLTAGE_LOW, 60, threshold=207.0)  # hysteresis 2.07 V
HIGH = RuleSpec(Kind.POWER_ABOVE, 30, threshold=1000.0)  # hysteresis 50 W
FREQ = RuleSpec(Kind.FREQUENCY, 20, minimum=49.5, maximum=50.5)  # hysteresis 0.05 Hz
PF = RuleSpec(Kind.POWER_FACTOR_LOW, 0, threshold=0.8)
GAP = 30


def series(*values: float, start: int = 1000, step: int = 10) -> list[tuple[int, float]]:
    """Readings every step seconds from start."""
    return [(start + i * step, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(("spec", "samples", "expected"), [
    # A dip shorter than the duration: nothing at all.
    (LOW, series(230, 200, 200, 200, 200, 200, 230, 230), []),
    # A dip lasting the duration fires once, on the reading that completes it, and resolves
    # once after the same duration back above threshold + hysteresis.
    (LOW, series(230, *[200] * 7, *[230] * 7),
     [Event("firing", 1070, 200), Event("resolved", 1140, 230)]),
    # Back just above the threshold but inside the hysteresis band: still firing, no resolve.
    (LOW, series(230, *[200] * 7, *[208] * 10), [Event("firing", 1070, 200)]),
    # One good reading in the middle of a dip restarts the count (every reading counts).
    (LOW, series(230, 200, 200, 200, 200, 230, *[200] * 7), [Event("firing", 1120, 200)]),
    # A bad reading while recovering sends it back to firing: still one episode.
    (LOW, series(*[200] * 7, 230, 230, 200, *[230] * 7),
     [Event("firing", 1060, 200), Event("resolved", 1160, 230)]),
    # Power above, with hysteresis below the threshold.
    (HIGH, series(500, 1500, 1500, 1500, 1500, 990, 990, 990, 990, 900, 900, 900, 900),
     [Event("firing", 1040, 1500), Event("resolved", 1120, 900)]),
    # Frequency band on both sides; a swing from low to high is one episode.
    (FREQ, series(50, 49.4, 49.4, 50.6, 50.6, 50.0, 50.0, 50.0),
     [Event("firing", 1030, 50.6), Event("resolved", 1070, 50.0)]),
    # Duration 0: the first reading outside fires, the first one back inside resolves.
    (PF, series(0.95, 0.7, 0.7, 0.81, 0.9), [Event("firing", 1010, 0.7), Event("resolved", 1040, 0.9)]),
])
def test_episodes(spec: RuleSpec, samples: list[tuple[int, float]], expected: list[Event]) -> None:
    _, events = judge_readings(spec, Track(), samples, GAP)
    assert events == expected


def test_readings_split_across_cycles_give_the_same_episode() -> None:
    samples = series(230, *[200] * 7, *[230] * 7)
    whole = judge_readings(LOW, Track(), samples, GAP)[1]
    track, split = Track(), []
    for i in range(0, len(samples), 3):  # three readings per cycle, state carried between
        track, events = judge_readings(LOW, track, samples[i:i + 3], GAP)
        split += events
    assert split == whole and len(whole) == 2


def test_already_judged_readings_are_skipped_after_a_restart() -> None:
    track, first = judge_readings(LOW, Track(), series(*[200] * 8), GAP)
    again, second = judge_readings(LOW, track, series(*[200] * 10), GAP)  # re-read from before the cursor
    assert first == [Event("firing", 1060, 200)] and second == [] and again.state == FIRING


def test_a_gap_breaks_a_pending_run() -> None:
    samples = [(1000, 200.0), (1010, 200.0), (1100, 200.0), (1110, 200.0)]  # 90 s without readings
    track, events = judge_readings(LOW, Track(), samples, GAP)
    assert events == [] and track.state == PENDING and track.since == 1100


def test_state_is_pending_then_recovering() -> None:
    track, _ = judge_readings(LOW, Track(), series(200, 200), GAP)
    assert (track.state, track.since, track.last_ts) == (PENDING, 1000, 1010)
    track, _ = judge_readings(LOW, track, series(*[200] * 6, 230, start=1020), GAP)
    assert (track.state, track.since) == (RECOVERING, 1080)


OFF = RuleSpec(Kind.OFFLINE, 120)
WINDOW = 30


@pytest.mark.parametrize(("track", "reading_ts", "now", "offline_at", "expected", "state"), [
    # Reporting every 10 s: nothing.
    (Track(), [1000, 1010, 1020], 1025, None, [], OK),
    # Silent since 1020: disconnected from 1050, offline for 120 s at 1170; not at 1169.
    (Track(), [1000, 1010, 1020], 1169, None, [], OK),
    (Track(), [1000, 1010, 1020], 1170, None, [Event("firing", 1170)], FIRING),
    # The Last Will at 1025 starts the count earlier than the status window.
    (Track(), [1000, 1020], 1145, 1025, [Event("firing", 1145)], FIRING),
    # A Last Will older than the last reading means nothing.
    (Track(), [1000, 1020], 1100, 1005, [], OK),
    # Firing, then a reading: resolved at the reading's own time.
    (Track(state=FIRING, since=1170, last_ts=1020), [1500, 1510], 1515, None, [Event("resolved", 1500)], OK),
    # A whole outage that happened while the service was down: caught up from the gap.
    (Track(state=OK, last_ts=1000), [1400, 1410], 1415, None,
     [Event("firing", 1150), Event("resolved", 1400)], OK),
    # A blip shorter than the duration: nothing.
    (Track(state=OK, last_ts=1000), [1100], 1105, None, [], OK),
    # A node that never reported is "no data", not offline.
    (Track(), [], 10_000, None, [], OK),
])
def test_offline(track: Track, reading_ts: list[int], now: int, offline_at: int | None,
                 expected: list[Event], state: str) -> None:
    after, events = judge_offline(OFF, track, reading_ts, now, WINDOW, offline_at)
    assert events == expected and after.state == state


def test_a_late_reading_never_resolves_before_the_firing() -> None:
    track, events = judge_offline(OFF, Track(), [1000], 1200, WINDOW)
    assert events == [Event("firing", 1150)]
    _, events = judge_offline(OFF, track, [1100], 1205, WINDOW)  # stored late, older than the firing
    assert events == [Event("resolved", 1150)]


def test_offline_fires_once_however_often_the_clock_ticks() -> None:
    track, fired = Track(), []
    track, _ = judge_offline(OFF, track, [1000], 1000, WINDOW)
    for now in range(1000, 2000, 7):  # the injected clock advances; no readings arrive
        track, events = judge_offline(OFF, track, [], now, WINDOW)
        fired += events
    assert fired == [Event("firing", 1150)]


BUDGET = RuleSpec(Kind.ENERGY_DAY_ABOVE, 0, threshold=10.0)
DAY = 86_400


@pytest.mark.parametrize(("days", "expected"), [
    ([(0, 5.0, 100), (0, 9.9, 200)], []),
    ([(0, 5.0, 100), (0, 10.5, 200), (0, 12.0, 300)], [Event("firing", 200, 10.5)]),
    # The next day resolves it; over budget again that day is a new episode.
    ([(0, 11.0, 100), (DAY, 1.0, DAY + 100), (DAY, 11.0, DAY + 200)],
     [Event("firing", 100, 11.0), Event("resolved", DAY), Event("firing", DAY + 200, 11.0)]),
])
def test_energy_day(days: list[tuple[int, float, int]], expected: list[Event]) -> None:
    assert judge_energy_days(BUDGET, Track(), days)[1] == expected
