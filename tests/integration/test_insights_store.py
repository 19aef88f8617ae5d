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

from enertrack.quality.report import Nominal, Verdict
from enertrack.quality.week import export_csv, week_report, week_span
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.services.consumption import daily_kwh, load_base_load, past_days, today_so_far
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


# -- the bill: quarters from the store, band split, comparisons, forecast ---------------------------

def _energy(start: int, end: int) -> float:
    """kWh the scenario's meter counts in [start, end) (readings every 30 s, left rectangles)."""
    first = start + (-(start - s.FIRST)) % s.INTERVAL
    return sum(s.power_at(t) * s.INTERVAL for t in range(first, end, s.INTERVAL)) / 3_600_000.0


def test_band_split_of_the_dst_week_at_20td(store: SQLiteStore) -> None:
    from enertrack.core.tariffs import ES_20TD, TariffSpec
    from enertrack.web.services.bill import SitePricing, band_split

    td = TariffSpec(date(2026, 1, 1), ES_20TD, price_punta=0.3, price_llano=0.2, price_valle=0.1,
                    power_price_kw_day=0.1, power_price_valle_kw_day=0.01, fixed_per_day=0.5)
    price = SitePricing(1, "Main", [td], (4.6, 2.0), None, "EUR")
    result = band_split(store, [s.NODE], date(2026, 3, 23), date(2026, 3, 30), s.TZ, price, now=s.LAST)
    assert result is not None
    split, fixed = result
    expected = {"punta": 0.0, "llano": 0.0, "valle": 0.0}
    for day in range(5):  # Monday to Friday; the weekend is valle all day
        d = date(2026, 3, 23) + timedelta(days=day)
        for first, last, band in ((0, 8, "valle"), (8, 10, "llano"), (10, 14, "punta"), (14, 18, "llano"),
                                  (18, 22, "punta"), (22, 24, "llano")):
            end = s.local(d.year, d.month, d.day, last) if last < 24 else s.local(d.year, d.month, d.day + 1)
            expected[band] += _energy(s.local(d.year, d.month, d.day, first), end)
    expected["valle"] += _energy(s.local(2026, 3, 28), s.local(2026, 3, 30))
    for band, kwh in expected.items():
        assert split.kwh[band] == pytest.approx(kwh, abs=0.05), band
    assert split.total_cost == pytest.approx(expected["punta"] * 0.3 + expected["llano"] * 0.2
                                             + expected["valle"] * 0.1, abs=0.02)
    assert fixed == pytest.approx(7 * (0.5 + 4.6 * 0.1 + 2.0 * 0.01))


def test_week_over_week_and_year_before(store: SQLiteStore) -> None:
    from enertrack.web.services.bill import comparison

    # The running week of 23 March, seen on Thursday 26 at 18:00 (after the meter restart at 12:00).
    result = comparison(store, [s.NODE], date(2026, 3, 23), date(2026, 3, 30), s.TZ, s.local(2026, 3, 26, 18))
    assert result.kwh == pytest.approx(_energy(s.local(2026, 3, 23), s.local(2026, 3, 26, 18)), abs=0.05)
    assert result.week_before_kwh == pytest.approx(_energy(s.local(2026, 3, 16), s.local(2026, 3, 19, 18)), abs=0.05)
    assert result.year_before_kwh == 0.0  # no readings in 2025


def test_the_forecast_of_march_from_the_store(store: SQLiteStore) -> None:
    from enertrack.core.forecast import forecast
    from enertrack.core.tariffs import FLAT, TariffSpec
    from enertrack.web.services.bill import days_of, quarters

    now = s.local(2026, 3, 20, 12)
    start, end = s.local(2026, 3, 1), s.local(2026, 4, 1)
    flat = TariffSpec(date(2026, 1, 1), FLAT, price_llano=0.2, fixed_per_day=1.0)
    result = forecast(start, end, now, quarters(store, [s.NODE], start, now),
                      quarters(store, [s.NODE], now - 28 * 86400, now), [flat],
                      days_of(date(2026, 3, 1), date(2026, 4, 1)), (None, None), s.TZ)
    so_far = _energy(start, now)
    runs = [so_far] * 4
    for q in range(now, end, 900):
        found: dict[int, float] = {}
        for k in range(1, 5):  # week k before now: the same weekday and wall-clock time in it
            wall = datetime.fromtimestamp(q, s.ZONE).replace(tzinfo=None)
            past = q
            while not now - k * 7 * 86400 <= past < now - (k - 1) * 7 * 86400:
                wall -= timedelta(days=7)
                past = int(wall.replace(tzinfo=s.ZONE).timestamp())
            if past >= s.FIRST:  # the fourth week starts before the first reading
                found[k] = _energy(past, past + 900)
        mean = sum(found.values()) / len(found)
        runs = [run + found.get(k + 1, mean) for k, run in enumerate(runs)]
    assert result.so_far_kwh == pytest.approx(so_far, abs=0.05)
    assert result.expected_kwh == pytest.approx(sum(runs) / 4, abs=0.1)
    assert (result.low_kwh, result.high_kwh) == pytest.approx((min(runs), max(runs)), abs=0.1)
    assert result.expected_cost == pytest.approx(sum(runs) / 4 * 0.2 + 31, abs=0.05)
