"""Base load, unusual days, the weekly power-quality report and the bill read through a real SQLite store
and through InfluxStore (the real influxdb-client against tests/fake_influx.py's model of InfluxDB).

Every expectation is recomputed here in plain Python from the scenario's own plan (tests/scenario.py):
gaps, a meter restart and the spring-forward night included.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from enertrack.quality.report import Nominal, Verdict, report
from enertrack.quality.week import export_csv, week_report, week_span
from enertrack.store.base import TimeseriesStore
from enertrack.store.influx.store import InfluxStore
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.services.consumption import daily_kwh, load_base_load, past_days, today_so_far
from tests import scenario as s
from tests.fake_influx import install_model, serve


@pytest.fixture(scope="module", params=["sqlite", "influx-model"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimeseriesStore]:
    """The whole scenario written once into a SQLite store, and into InfluxStore on the model of InfluxDB."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            opened: TimeseriesStore = SQLiteStore(Path(tmp_path_factory.mktemp("insights")) / "ts.sqlite3")
        else:  # the real influxdb-client against tests/fake_influx.py's model (no server can run here)
            fake = stack.enter_context(contextmanager(serve)())
            install_model(fake)
            opened = InfluxStore(fake.url, "t", "o", "b", timeout_ms=30_000, read_chunk_s=2 * 86_400)
        stack.callback(opened.close)
        readings = s.readings()
        for i in range(0, len(readings), 5000):
            opened.write(readings[i:i + 5000])
        yield opened


def _day_energy(day: date) -> float:
    """kWh of a local day integrated from the scenario's power plan (what the meter counts)."""
    start, end = s.local(day.year, day.month, day.day), s.local(*(day + timedelta(days=1)).timetuple()[:3])
    return sum(s.power_at(t) * s.INTERVAL for t in range(start, end, s.INTERVAL)) / 3_600_000.0


def test_daily_energy_is_right_across_the_restart_the_outage_and_the_short_day(store: TimeseriesStore) -> None:
    daily = daily_kwh(store, [s.NODE], date(2026, 3, 24), date(2026, 3, 31), s.TZ)
    for day in (date(2026, 3, 25), date(2026, 3, 26), date(2026, 3, 29), date(2026, 3, 30)):
        assert daily[day] == pytest.approx(_day_energy(day), abs=0.02), day
    # The 23-hour Sunday is one night hour short of the Monday after it.
    assert _day_energy(date(2026, 3, 30)) - _day_energy(date(2026, 3, 29)) > 0.1


def test_the_busy_thursday_is_the_one_unusual_day(store: TimeseriesStore) -> None:
    now = s.local(2026, 3, 31, 0, 30)
    checks = past_days(store, [s.NODE], s.TZ, now)
    assert [c.day for c in checks] == [date(2026, 3, 17) + timedelta(days=k) for k in range(14)]
    assert {c.day: c.unusual for c in checks if c.unusual} == {date(2026, 3, 19): "high"}
    busy = next(c for c in checks if c.day == date(2026, 3, 19))
    usual = statistics.median(_day_energy(d) for d in (date(2026, 3, 12), date(2026, 3, 5), date(2026, 2, 26)))
    assert busy.reference_days == 3  # 19 February is before the first reading
    assert busy.usual_kwh == pytest.approx(usual, abs=0.02)
    assert busy.kwh == pytest.approx(_day_energy(date(2026, 3, 19)), abs=0.02)


def test_the_analysis_lists_the_unusual_days_of_its_range(store: TimeseriesStore) -> None:
    from enertrack.web.services.consumption import unusual_in_range

    # 9 to 30 March: the outage, the restart and the 23-hour Sunday; only the busy Thursday is flagged.
    past = unusual_in_range(store, [s.NODE], date(2026, 3, 9), date(2026, 3, 31), s.TZ, s.local(2026, 3, 31, 0, 30))
    assert past is not None and [(c.day, c.unusual) for c in past] == [(date(2026, 3, 19), "high")]
    assert past[0].kwh == pytest.approx(_day_energy(date(2026, 3, 19)), abs=0.02)
    assert past[0].usual_kwh == pytest.approx(statistics.median(
        _day_energy(d) for d in (date(2026, 3, 12), date(2026, 3, 5), date(2026, 2, 26))), abs=0.02)
    # A running range: today is compared up to now with the same part of its weekdays.
    running = unusual_in_range(store, [s.NODE], date(2026, 3, 16), date(2026, 3, 23), s.TZ,
                               s.local(2026, 3, 19, 13, 7))
    assert running is not None and [(c.day, c.unusual) for c in running] == [(date(2026, 3, 19), "high")]
    assert running[0].kwh == pytest.approx(_part(date(2026, 3, 19), 13), abs=0.02)
    # Days without four weeks before them (the first readings) have no usual; the future is not judged.
    assert unusual_in_range(store, [s.NODE], date(2026, 2, 1), date(2026, 3, 9), s.TZ, s.LAST) == []
    assert unusual_in_range(store, [s.NODE], date(2026, 3, 19), date(2026, 3, 20), s.TZ, s.local(2026, 3, 18)) == []
    assert unusual_in_range(store, [s.NODE], date(2025, 1, 1), date(2026, 3, 31), s.TZ, s.LAST) is None


def test_a_nodes_first_partial_day_is_no_usual(tmp_path: Path) -> None:
    from enertrack.web.services.consumption import unusual_in_range

    late = SQLiteStore(tmp_path / "late.sqlite3")
    try:  # the same node, its readings beginning on Monday 23 February at 20:00
        late.write(s.readings(s.local(2026, 2, 23, 20), s.local(2026, 3, 21)))
        flagged = unusual_in_range(late, [s.NODE], date(2026, 3, 2), date(2026, 3, 21), s.TZ, s.local(2026, 3, 21))
        monday = today_so_far(late, [s.NODE], s.TZ, s.local(2026, 3, 9, 23, 50))
    finally:
        late.close()
    # Monday 9 March has two same weekdays before it, 2 March and the four hours of 23 February: only the
    # first is a usual, and one is no judgement (the median with the evening would flag a normal day high).
    evening = _energy(s.local(2026, 2, 23, 20), s.local(2026, 2, 24))
    assert _day_energy(date(2026, 3, 9)) > 1.5 * statistics.median([_day_energy(date(2026, 3, 2)), evening])
    assert flagged is not None and [(c.day, c.unusual) for c in flagged] == [(date(2026, 3, 19), "high")]
    assert monday is not None and (monday.reference_days, monday.unusual) == (1, None)


def _part(day: date, hour: int) -> float:
    start = s.local(day.year, day.month, day.day)
    return sum(s.power_at(t) * s.INTERVAL for t in range(start, s.local(day.year, day.month, day.day, hour),
                                                          s.INTERVAL)) / 3_600_000.0


def test_today_is_compared_with_the_same_part_of_its_weekdays(store: TimeseriesStore) -> None:
    busy = today_so_far(store, [s.NODE], s.TZ, s.local(2026, 3, 19, 13, 7))
    assert busy is not None and busy.unusual == "high"
    assert busy.kwh == pytest.approx(_part(date(2026, 3, 19), 13), abs=0.02)
    assert busy.usual_kwh == pytest.approx(statistics.median(
        _part(d, 13) for d in (date(2026, 3, 12), date(2026, 3, 5), date(2026, 2, 26))), abs=0.02)
    calm = today_so_far(store, [s.NODE], s.TZ, s.local(2026, 3, 30, 13, 7))
    assert calm is not None and calm.unusual is None and calm.reference_days == 4


def _base_load(start: int, end: int) -> tuple[float, float]:
    """(10th percentile of the night quarter-hour mean powers, mean of every quarter-hour mean) in [start, end)."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for reading in s.readings(start, end):
        buckets[reading.ts // 900 * 900].append(reading.power or 0.0)
    means = {t: sum(v) / len(v) for t, v in buckets.items()}
    night = [m for t, m in means.items() if datetime.fromtimestamp(t, s.ZONE).hour < 5]
    return statistics.quantiles(night, n=10, method="inclusive")[0], sum(means.values()) / len(means)


def test_base_load_is_the_low_percentile_of_night_quarter_hours(store: TimeseriesStore) -> None:
    now = s.local(2026, 3, 31, 9)
    watts, mean = _base_load(s.local(2026, 3, 3), s.local(2026, 3, 31))  # the outage, restart and short night
    result = load_base_load(store, [s.NODE], s.TZ, now)
    assert result is not None
    assert result.watts == pytest.approx(watts)
    assert s.BASE_W <= result.watts <= s.BASE_W + 80
    assert result.average_watts == pytest.approx(mean)
    assert result.share == pytest.approx(watts / mean)
    assert result.yearly_cost(0.2) == pytest.approx(watts * 8.76 * 0.2)


# 2.0TD as CNMC Circular 3/2020 words it, written out here rather than taken from enertrack.core.tariffs.
HOLIDAYS = {(1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)}
TD_PRICES = {"punta": 0.3, "llano": 0.2, "valle": 0.1}


def _band(ts: int) -> str:
    moment = datetime.fromtimestamp(ts, s.ZONE)
    if moment.weekday() >= 5 or (moment.month, moment.day) in HOLIDAYS or moment.hour < 8:
        return "valle"
    return "punta" if 10 <= moment.hour < 14 or 18 <= moment.hour < 22 else "llano"


def _td(valid_from: date = date(2026, 1, 1)):  # type: ignore[no-untyped-def]
    from enertrack.core.tariffs import ES_20TD, TariffSpec

    return TariffSpec(valid_from, ES_20TD, price_punta=0.3, price_llano=0.2, price_valle=0.1,
                      power_price_kw_day=0.1, power_price_valle_kw_day=0.01, fixed_per_day=0.5)


def test_standby_cost_a_year_at_20td_over_the_clock_change(store: TimeseriesStore) -> None:
    from enertrack.web.services.bill import SitePricing
    from enertrack.web.services.insights import standby_price

    now = s.local(2026, 3, 27, 9, 5)  # the coming week holds the 23-hour Sunday
    price = standby_price(SitePricing(1, "Main", [_td()], (4.6, 2.0), None, "EUR"), s.TZ, now)
    first = s.local(2026, 3, 27, 9)
    hours = [first + 3600 * k for k in range(7 * 24)]  # 168 real hours, to 10:00 local: Sunday has 23
    expected = sum(TD_PRICES[_band(h)] for h in hours) / len(hours)
    assert price == pytest.approx(expected)
    result = load_base_load(store, [s.NODE], s.TZ, s.local(2026, 3, 31, 9))
    assert result is not None
    assert result.yearly_cost(price) == pytest.approx(_base_load(s.local(2026, 3, 3), s.local(2026, 3, 31))[0]
                                                      * 8760 / 1000 * expected)


def _window_means(attr: str, width: int, start: int, end: int) -> list[float]:
    """Plain-Python mean of attr per window of width seconds from start that has readings."""
    groups: dict[int, list[float]] = defaultdict(list)
    for reading in s.readings(start, end):
        groups[(reading.ts - start) // width].append(getattr(reading, attr))
    return [sum(v) / len(v) for v in groups.values()]


def test_the_dst_week_report_through_the_store(store: TimeseriesStore) -> None:
    result = week_report(store, s.NODE, date(2026, 3, 26), s.TZ, Nominal(230.0, 50.0), s.INTERVAL,
                         now=s.local(2026, 4, 2))
    assert (result.start, result.end) == s.DST_WEEK == week_span(date(2026, 3, 29), s.TZ)
    volts, hertz = _window_means("voltage", 600, *s.DST_WEEK), _window_means("frequency", 10, *s.DST_WEEK)
    v_share = sum(207.0 <= v <= 253.0 for v in volts) / len(volts)
    f_share = sum(49.5 <= f <= 50.5 for f in hertz) / len(hertz)
    assert (result.windows, result.voltage_windows, result.frequency_windows) == (167 * 6, len(volts), len(hertz))
    assert (result.voltage_within, result.frequency_within) == (pytest.approx(v_share), pytest.approx(f_share))
    # The planned events: three dips, the 3-hour low spell (one long dip) and one swell.
    assert (result.count("dip"), result.count("swell"), result.seconds("swell")) == (4, 1, s.SWELLS[0][1])
    assert result.seconds("dip") == sum(d[1] for d in s.DIPS) + s.LOW_SPAN[1] - s.LOW_SPAN[0]
    within = v_share >= 0.95 and f_share >= 0.995 and all(195.5 <= v <= 253.0 for v in volts)
    assert within and result.verdict is Verdict.WITHIN
    # Saturday afternoon and evening alone: 18 of its 72 ten-minute means under 207 V, so outside.
    start, end = s.local(2026, 3, 28, 12), s.local(2026, 3, 29)
    rows = list(store.readings(s.NODE, start, end))
    evening = report(np.array([r.ts for r in rows]), np.array([r.voltage for r in rows], dtype=float),
                     np.array([r.frequency for r in rows], dtype=float), start, end, Nominal(230.0, 50.0), s.INTERVAL)
    volts = _window_means("voltage", 600, start, end)
    assert evening.voltage_within == pytest.approx(sum(207.0 <= v <= 253.0 for v in volts) / len(volts)) == 0.75
    assert evening.verdict is Verdict.OUTSIDE
    lines = export_csv(s.NODE, [(result, s.DST_WEEK[1])], s.TZ).splitlines()
    assert lines[0].startswith("node_id,week_start,week_end")
    row = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert row["week_start"] == "2026-03-23T00:00:00+01:00" and row["week_end"] == "2026-03-30T00:00:00+02:00"
    assert (row["dips"], row["dip_seconds"], row["verdict"], row["partial"]) == ("4", "10980", "within", "false")


def test_a_running_week_is_partial_and_a_week_without_readings_has_no_verdict(store: TimeseriesStore) -> None:
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


def test_band_split_of_the_dst_week_at_20td(store: TimeseriesStore) -> None:
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


def test_week_over_week_and_year_before(store: TimeseriesStore) -> None:
    from enertrack.web.services.bill import comparison

    # The running week of 23 March, seen on Thursday 26 at 18:00 (after the meter restart at 12:00).
    result = comparison(store, [s.NODE], date(2026, 3, 23), date(2026, 3, 30), s.TZ, s.local(2026, 3, 26, 18))
    assert result.kwh == pytest.approx(_energy(s.local(2026, 3, 23), s.local(2026, 3, 26, 18)), abs=0.05)
    assert result.week_before_kwh == pytest.approx(_energy(s.local(2026, 3, 16), s.local(2026, 3, 19, 18)), abs=0.05)
    assert result.year_before_kwh == 0.0  # no readings in 2025


def test_the_forecast_of_march_from_the_store(store: TimeseriesStore) -> None:
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


def _by_band(start: int, end: int, tariff_of: Any) -> tuple[dict[str, float], float]:
    """(kWh per band, energy cost) in [start, end) from the plan; tariff_of(local date) -> 'flat' | '2.0td'."""
    kwh = {"punta": 0.0, "llano": 0.0, "valle": 0.0}
    cost = 0.0
    first = start + (-(start - s.FIRST)) % s.INTERVAL
    for t in range(first, end, s.INTERVAL):
        value = s.power_at(t) * s.INTERVAL / 3_600_000.0
        if tariff_of(datetime.fromtimestamp(t, s.ZONE).date()) == "flat":
            kwh["llano"] += value  # a flat tariff's one band
            cost += value * 0.15
        else:
            kwh[_band(t)] += value
            cost += value * TD_PRICES[_band(t)]
    return kwh, cost


def test_a_tariff_change_on_a_date_prices_each_day_at_its_own_tariff(store: TimeseriesStore) -> None:
    from enertrack.core.tariffs import FLAT, TariffSpec
    from enertrack.web.services.bill import SitePricing, band_split

    # Flat 0.15 until Wednesday 25 March (the outage); 2.0TD from Thursday 26 (the restart) on, over the 23-h Sunday.
    flat = TariffSpec(date(2026, 1, 1), FLAT, price_llano=0.15, fixed_per_day=0.4)
    price = SitePricing(1, "Main", [flat, _td(date(2026, 3, 26))], (4.6, 2.0), None, "EUR")
    result = band_split(store, [s.NODE], date(2026, 3, 23), date(2026, 3, 30), s.TZ, price, now=s.LAST)
    assert result is not None
    split, fixed = result
    kwh, cost = _by_band(s.local(2026, 3, 23), s.local(2026, 3, 30),
                         lambda d: "flat" if d < date(2026, 3, 26) else "2.0td")
    for band, value in kwh.items():
        assert split.kwh[band] == pytest.approx(value, abs=0.05), band
    assert split.total_cost == pytest.approx(cost, abs=0.02)
    assert fixed == pytest.approx(3 * 0.4 + 4 * (0.5 + 4.6 * 0.1 + 2.0 * 0.01))


def test_a_national_holiday_is_valle_all_day(tmp_path: Path) -> None:
    from enertrack.web.services.bill import SitePricing, band_split

    holiday = SQLiteStore(tmp_path / "holiday.sqlite3")
    try:
        holiday.write(s.readings(*s.HOLIDAY, origin=s.HOLIDAY[0]))  # Thursday 30 April and Friday 1 May
        price = SitePricing(1, "Main", [_td()], (4.6, None), None, "EUR")
        result = band_split(holiday, [s.NODE], date(2026, 4, 30), date(2026, 5, 2), s.TZ, price, now=s.HOLIDAY[1])
    finally:
        holiday.close()
    assert result is not None
    split, fixed = result
    thursday, _ = _by_band(s.HOLIDAY[0], s.local(2026, 5, 1), lambda d: "2.0td")
    friday, _ = _by_band(s.local(2026, 5, 1), s.HOLIDAY[1], lambda d: "2.0td")
    assert friday["punta"] == friday["llano"] == 0.0 and friday["valle"] > 10  # the plan itself says valle
    # The meter's last 30 s are not counted (no reading after them): a few Wh.
    for band in ("punta", "llano", "valle"):
        assert split.kwh[band] == pytest.approx(thursday[band] + friday[band], abs=0.05), band
    assert fixed == pytest.approx(2 * (0.5 + 4.6 * 0.1 + 4.6 * 0.01))  # P2 defaults to P1


def test_the_same_dates_last_year(store: TimeseriesStore) -> None:
    from enertrack.web.services.bill import comparison

    # The week of 23 March 2027 (its own clock change on the 28th) against 2026's, which has every event.
    done = comparison(store, [s.NODE], date(2027, 3, 23), date(2027, 3, 30), s.TZ, s.local(2027, 4, 2))
    assert (done.kwh, done.week_before_kwh) == (0.0, 0.0)
    assert done.year_before_kwh == pytest.approx(_energy(s.local(2026, 3, 23), s.local(2026, 3, 30)), abs=0.05)
    # Running: Friday 26 March 2027 at 18:00 against Thursday 26 March 2026 up to 18:00 (same dates).
    running = comparison(store, [s.NODE], date(2027, 3, 23), date(2027, 3, 30), s.TZ, s.local(2027, 3, 26, 18))
    assert running.year_before_kwh == pytest.approx(_energy(s.local(2026, 3, 23), s.local(2026, 3, 26, 18)),
                                                    abs=0.05)


def test_the_forecast_of_a_billing_period_across_the_outage_restart_and_clock_change(store: TimeseriesStore) -> None:
    from enertrack.core.forecast import billing_period, forecast
    from enertrack.web.services.bill import days_of, quarters

    # Billing day 20; Saturday 28 March at 12:00: the four weeks before hold the outage and the restart,
    # the rest of the period the 23-hour Sunday.
    first, end = billing_period(date(2026, 3, 28), 20)
    assert (first, end) == (date(2026, 3, 20), date(2026, 4, 20))
    now, start, stop = s.local(2026, 3, 28, 12), s.local(2026, 3, 20), s.local(2026, 4, 20)
    result = forecast(start, stop, now, quarters(store, [s.NODE], start, now),
                      quarters(store, [s.NODE], now - 28 * 86400, now), [_td()], days_of(first, end), (4.6, 2.0), s.TZ)
    so_far, so_far_cost = _energy(start, now), _by_band(start, now, lambda d: "2.0td")[1]
    runs = [so_far] * 4
    costs = [so_far_cost] * 4
    for q in range(now, stop, 900):
        wall = datetime.fromtimestamp(q, s.ZONE).replace(tzinfo=None)
        for k in range(1, 5):  # week k before now: the same weekday and wall-clock time in it
            past = int(wall.replace(tzinfo=s.ZONE).timestamp())
            while not now - k * 7 * 86400 <= past < now - (k - 1) * 7 * 86400:
                wall -= timedelta(days=7)
                past = int(wall.replace(tzinfo=s.ZONE).timestamp())
            value = _energy(past, past + 900)
            runs[k - 1] += value
            costs[k - 1] += value * TD_PRICES[_band(q)]
    fixed = 31 * (0.5 + 4.6 * 0.1 + 2.0 * 0.01)
    assert result.so_far_kwh == pytest.approx(so_far, abs=0.05)
    assert result.expected_kwh == pytest.approx(sum(runs) / 4, abs=0.1)
    assert (result.low_kwh, result.high_kwh) == pytest.approx((min(runs), max(runs)), abs=0.1)
    assert result.expected_cost == pytest.approx(sum(costs) / 4 + fixed, abs=0.05)
    assert (result.low_cost, result.high_cost) == pytest.approx((min(costs) + fixed, max(costs) + fixed), abs=0.05)
