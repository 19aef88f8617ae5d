"""Power quality: the weekly figures against a plain recount of the scenario's readings."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from enertrack.quality.report import GRIDS, Event, Nominal, Verdict, events, report, verdict
from tests import scenario as s

WEEK = s.DST_WEEK
NOMINAL = Nominal(s.NOMINAL_V, s.NOMINAL_F)


def _arrays(readings):  # type: ignore[no-untyped-def]
    return (np.array([r.ts for r in readings], dtype=np.int64), np.array([r.voltage for r in readings]),
            np.array([r.frequency for r in readings]))


@pytest.fixture(scope="module")
def week():  # type: ignore[no-untyped-def]
    readings = s.readings(WEEK[0] - 3600, WEEK[1] + 3600)  # a little outside, which must be ignored
    return readings, report(*_arrays(readings), WEEK[0], WEEK[1], NOMINAL, s.INTERVAL)


def _recount(readings, width, attr, low, high):  # type: ignore[no-untyped-def]
    """Plain-Python window means: (windows with data, windows whose mean is in [low, high])."""
    groups: dict[int, list[float]] = defaultdict(list)
    for r in readings:
        if WEEK[0] <= r.ts < WEEK[1]:
            groups[(r.ts - WEEK[0]) // width].append(getattr(r, attr))
    means = [sum(v) / len(v) for v in groups.values()]
    return len(means), sum(1 for m in means if low <= m <= high)


def test_a_spring_forward_week_has_167_hours_of_ten_minute_windows(week) -> None:  # type: ignore[no-untyped-def]
    assert week[1].windows == 167 * 6


def test_voltage_share_matches_a_recount_and_the_plan(week) -> None:  # type: ignore[no-untyped-def]
    readings, result = week
    with_data, within = _recount(readings, 600, "voltage", 207.0, 253.0)
    assert result.voltage_windows == with_data == 167 * 6 - 18  # the 3-hour outage has no readings
    assert result.voltage_within == pytest.approx(within / with_data)
    assert with_data - within == 18  # the 3 hours at 204 V
    assert result.voltage_extended_ok  # 204 V is above -15 %


def test_frequency_share_matches_a_recount(week) -> None:  # type: ignore[no-untyped-def]
    readings, result = week
    with_data, within = _recount(readings, 10, "frequency", 49.5, 50.5)
    assert result.frequency_windows == with_data
    assert with_data - within == 60  # 30 minutes of readings every 30 s at 49.2 Hz
    assert result.frequency_within == pytest.approx(within / with_data)


def test_dips_and_swells_are_the_planned_ones(week) -> None:  # type: ignore[no-untyped-def]
    result = week[1]
    dips = [(e.start, e.duration_s, e.extreme_v) for e in result.events if e.kind == "dip"]
    assert dips == sorted([
        (s.DIPS[0][0], 90, 190.0),
        (s.DIPS[2][0], 60, 200.0),  # runs into the outage: closed one interval after its last reading
        (s.LOW_SPAN[0], 3 * 3600, 204.0),
        (s.DIPS[1][0], 30, 150.0),  # the night of the clock change
    ])
    assert [(e.start, e.duration_s, e.extreme_v) for e in result.events if e.kind == "swell"] == [
        (s.SWELLS[0][0], 120, 260.0)]
    assert (result.count("dip"), result.seconds("dip"), result.longest("dip")) == (4, 90 + 60 + 10800 + 30, 10800)


def test_the_scenario_week_is_within_the_limits(week) -> None:  # type: ignore[no-untyped-def]
    assert week[1].verdict is Verdict.WITHIN


def test_a_running_week_counts_windows_up_to_now() -> None:
    now = WEEK[0] + 3 * 86400 + 25  # Thursday 00:00:25: a 433rd window has begun
    readings = s.readings(WEEK[0], now)
    result = report(*_arrays(readings), WEEK[0], now, NOMINAL, s.INTERVAL)
    assert result.windows == 3 * 144 + 1


@pytest.mark.parametrize(
    ("voltage_windows", "windows", "v_share", "extended", "f_share", "expected"),
    [
        (1008, 1008, 0.95, True, 0.995, Verdict.WITHIN),
        (1008, 1008, 0.9499, True, 0.999, Verdict.OUTSIDE),
        (1008, 1008, 1.0, False, 1.0, Verdict.OUTSIDE),  # one mean under -15 %
        (1008, 1008, 1.0, True, 0.994, Verdict.OUTSIDE),
        (1008, 1008, 1.0, True, None, Verdict.WITHIN),  # a meter without frequency: voltage only
        (503, 1008, 1.0, True, 1.0, Verdict.INSUFFICIENT),  # under half the week read
        (504, 1008, 1.0, True, 1.0, Verdict.WITHIN),
        (0, 1008, None, True, None, Verdict.INSUFFICIENT),
    ],
)
def test_verdict(voltage_windows, windows, v_share, extended, f_share, expected) -> None:  # type: ignore[no-untyped-def]
    assert verdict(voltage_windows, windows, v_share, extended, f_share) is expected


@pytest.mark.parametrize(
    ("ts", "volts", "end", "expected"),
    [
        ([0, 10, 20, 30], [230, 200, 200, 230], 100, [Event("dip", 10, 20, 200.0)]),
        ([0, 10, 20], [230, 200, 199], 25, [Event("dip", 10, 15, 199.0)]),  # the span ends: capped at end
        ([0, 10, 50], [200, 201, 230], 100, [Event("dip", 0, 20, 200.0)]),  # a 40-s gap (> 3 x 10 s)
        ([0, 10, 40], [200, 201, 230], 100, [Event("dip", 0, 40, 200.0)]),  # a 30-s gap is no gap
        ([0, 10, 20], [230, float("nan"), 230], 100, []),  # a reading without voltage is no dip
        ([0, 10], [207, 206.99], 100, [Event("dip", 10, 10, 206.99)]),
    ],
)
def test_dip_episodes(ts, volts, end, expected) -> None:  # type: ignore[no-untyped-def]
    found = events(np.array(ts, dtype=np.int64), np.array(volts, dtype=float), 207.0, "dip", 10, end)
    assert found == expected


def test_a_120v_60hz_installation_is_judged_on_its_own_nominal() -> None:
    ts = np.arange(0, 86400 * 7, 60, dtype=np.int64)
    result = report(ts, np.full(ts.size, 121.0), np.full(ts.size, 59.9), 0, 86400 * 7, GRIDS["120v60"], 60)
    assert (result.voltage_within, result.frequency_within, result.verdict) == (1.0, 1.0, Verdict.WITHIN)
    europe = report(ts, np.full(ts.size, 121.0), np.full(ts.size, 59.9), 0, 86400 * 7, GRIDS["230v50"], 60)
    assert europe.verdict is Verdict.OUTSIDE


def test_the_installation_grid_is_a_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from enertrack.config import ConfigError, load_settings

    base = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "_env_file": None}
    assert load_settings(**base).grid == "230v50"
    assert GRIDS[load_settings(**base, ENERTRACK_GRID="120v60").grid] == Nominal(120.0, 60.0)
    with pytest.raises(ConfigError) as info:
        load_settings(**base, ENERTRACK_GRID="240v50")
    assert "ENERTRACK_GRID must be one of '230v50' or '120v60', got '240v50'" in str(info.value)
