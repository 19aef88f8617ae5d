"""Base load, unusual days and the weekly power-quality report read through a real SQLite store.

Every expectation is recomputed here in plain Python from the scenario's own plan (tests/scenario.py):
gaps, a meter restart and the spring-forward night included.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from enertrack.insights.load import daily_kwh, load_base_load, past_days, today_so_far
from enertrack.quality.report import Nominal, Verdict
from enertrack.quality.week import export_csv, week_report, week_span
from enertrack.store.sqlite.store import SQLiteStore
from tests import scenario as s


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    """The whole scenario written once into a SQLite store."""
    opened = SQLiteStore(Path(tmp_path_factory.mktemp("insights")) / "ts.sqlite3")
    readings = s.readings()
    for i in range(0, len(readings), 5000):
        opened.write(readings[i:i + 5000])
    yield opened
    opened.close()


def _day_energy(day: date) -> float:
    """kWh of a local day integrated from the scenario's power plan (what the meter counts)."""
    start, end = s.local(day.year, day.month, day.day), s.local(*(day + timedelta(days=1)).timetuple()[:3])
    return sum(s.power_at(t) * s.INTERVAL for t in range(start, end, s.INTERVAL)) / 3_600_000.0


def test_daily_energy_is_right_across_the_restart_the_outage_and_the_short_day(store: SQLiteStore) -> None:
    daily = daily_kwh(store, [s.NODE], date(2026, 3, 24), date(2026, 3, 31), s.TZ)
    for day in (date(2026, 3, 25), date(2026, 3, 26), date(2026, 3, 29), date(2026, 3, 30)):
        assert daily[day] == pytest.approx(_day_energy(day), abs=0.02), day
    # The 23-hour Sunday is one night hour short of the Monday after it.
    assert _day_energy(date(2026, 3, 30)) - _day_energy(date(2026, 3, 29)) > 0.1


def test_the_busy_thursday_is_the_one_unusual_day(store: SQLiteStore) -> None:
    now = s.local(2026, 3, 31, 0, 30)
    checks = past_days(store, [s.NODE], s.TZ, now)
    assert [c.day for c in checks] == [date(2026, 3, 17) + timedelta(days=k) for k in range(14)]
    assert {c.day: c.unusual for c in checks if c.unusual} == {date(2026, 3, 19): "high"}
    busy = next(c for c in checks if c.day == date(2026, 3, 19))
    usual = statistics.median(_day_energy(d) for d in (date(2026, 3, 12), date(2026, 3, 5), date(2026, 2, 26)))
    assert busy.reference_days == 3  # 19 February is before the first reading
    assert busy.usual_kwh == pytest.approx(usual, abs=0.02)
    assert busy.kwh == pytest.approx(_day_energy(date(2026, 3, 19)), abs=0.02)


def _part(day: date, hour: int) -> float:
    start = s.local(day.year, day.month, day.day)
    return sum(s.power_at(t) * s.INTERVAL for t in range(start, s.local(day.year, day.month, day.day, hour),
                                                          s.INTERVAL)) / 3_600_000.0


def test_today_is_compared_with_the_same_part_of_its_weekdays(store: SQLiteStore) -> None:
    busy = today_so_far(store, [s.NODE], s.TZ, s.local(2026, 3, 19, 13, 7))
    assert busy is not None and busy.unusual == "high"
    assert busy.kwh == pytest.approx(_part(date(2026, 3, 19), 13), abs=0.02)
    assert busy.usual_kwh == pytest.approx(statistics.median(
        _part(d, 13) for d in (date(2026, 3, 12), date(2026, 3, 5), date(2026, 2, 26))), abs=0.02)
    calm = today_so_far(store, [s.NODE], s.TZ, s.local(2026, 3, 30, 13, 7))
    assert calm is not None and calm.unusual is None and calm.reference_days == 4


def test_base_load_is_the_low_percentile_of_night_quarter_hours(store: SQLiteStore) -> None:
    now = s.local(2026, 3, 31, 9)
    start, end = s.local(2026, 3, 3), s.local(2026, 3, 31)
    buckets: dict[int, list[float]] = defaultdict(list)
    for reading in s.readings(start, end):
        buckets[reading.ts // 900 * 900].append(reading.power or 0.0)
    means = {t: sum(v) / len(v) for t, v in buckets.items()}
    night = [m for t, m in means.items() if datetime.fromtimestamp(t, s.ZONE).hour < 5]
    result = load_base_load(store, [s.NODE], s.TZ, now)
    assert result is not None
    assert result.watts == pytest.approx(statistics.quantiles(night, n=10, method="inclusive")[0])
    assert s.BASE_W <= result.watts <= s.BASE_W + 80
    assert result.average_watts == pytest.approx(sum(means.values()) / len(means))
    assert result.share == pytest.approx(result.watts / result.average_watts)
    assert result.yearly_cost(0.2) == pytest.approx(result.watts * 8.76 * 0.2)


def test_the_dst_week_report_through_the_store(store: SQLiteStore) -> None:
    result = week_report(store, s.NODE, date(2026, 3, 26), s.TZ, Nominal(230.0, 50.0), s.INTERVAL,
                         now=s.local(2026, 4, 2))
    assert (result.start, result.end) == s.DST_WEEK == week_span(date(2026, 3, 29), s.TZ)
    assert (result.windows, result.voltage_windows, result.count("dip"), result.count("swell")) == (1002, 984, 4, 1)
    assert result.verdict is Verdict.WITHIN
    lines = export_csv(s.NODE, [(result, s.DST_WEEK[1])], s.TZ).splitlines()
    assert lines[0].startswith("node_id,week_start,week_end")
    row = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert row["week_start"] == "2026-03-23T00:00:00+01:00" and row["week_end"] == "2026-03-30T00:00:00+02:00"
    assert (row["dips"], row["dip_seconds"], row["verdict"], row["partial"]) == ("4", "10980", "within", "false")


def test_a_running_week_is_partial_and_a_week_without_readings_has_no_verdict(store: SQLiteStore) -> None:
    running = week_report(store, s.NODE, date(2026, 3, 30), s.TZ, Nominal(230.0, 50.0), s.INTERVAL,
                          now=s.local(2026, 3, 31, 0, 0))
    assert running.windows == 144 and running.end == s.LAST
    empty = week_report(store, s.NODE, date(2026, 1, 5), s.TZ, Nominal(230.0, 50.0), s.INTERVAL, now=s.LAST)
    assert empty.verdict is Verdict.INSUFFICIENT and empty.voltage_within is None
