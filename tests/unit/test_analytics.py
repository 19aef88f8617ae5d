"""Energy per local calendar period from a real store: the rules end to end, table-driven."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from enertrack.core.calendar import boundaries, day_start
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.services.analysis import Tariff, energy_stats, export_csv, load_energy, previous_range


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    result = SQLiteStore(tmp_path / "ts.sqlite3")
    yield result
    result.close()


def constant_load(node: str, start: int, end: int, watts: float = 1000.0, step: int = 60,
                  counter: bool = True) -> list[Reading]:
    """A meter at constant power: the counter grows watts/1000 kWh per hour."""
    out = []
    for ts in range(start, end + 1, step):
        energy = (ts - start) * watts / 3_600_000 if counter else None
        out.append(Reading(node, ts, power=watts, energy=energy))
    return out


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("day", "tz", "expected_kwh", "hours"),
    [
        (date(2026, 3, 29), "Europe/Madrid", 23.0, 23),
        (date(2026, 10, 25), "Europe/Madrid", 25.0, 25),
        (date(2026, 9, 6), "America/Santiago", 23.0, 23),
        (date(2026, 4, 4), "America/Santiago", 25.0, 25),
        (date(2026, 7, 1), "Asia/Kathmandu", 24.0, 24),
    ],
)
def test_a_day_has_the_energy_of_its_real_hours(store: SQLiteStore, day: date, tz: str,
                                                 expected_kwh: float, hours: int) -> None:
    zone = ZoneInfo(tz)
    start, end = day_start(day, zone), day_start(date.fromordinal(day.toordinal() + 1), zone)
    store.write(constant_load("n1", start - 3600, end + 3600), {"n1": EnergyParams(interval_s=60)})
    daily = load_energy(store, ["n1"], boundaries(day, date.fromordinal(day.toordinal() + 1), "day", tz), tz)
    assert daily["n1"].tolist() == pytest.approx([expected_kwh], abs=1e-6)
    hourly = load_energy(store, ["n1"], boundaries(day, date.fromordinal(day.toordinal() + 1), "hour", tz), tz)
    assert len(hourly) == hours
    assert hourly["n1"].tolist() == pytest.approx([1.0] * hours, abs=1e-6)
    assert hourly.index[0].isoformat().startswith(day.isoformat()) or tz == "America/Santiago"


@pytest.mark.parametrize(("first", "last", "expected"), [
    # 2028 is a leap year; March loses an hour to DST.
    (date(2028, 1, 1), date(2028, 5, 1), [744.0, 696.0, 743.0, 720.0]),
    (date(2027, 1, 1), date(2027, 4, 1), [744.0, 672.0, 743.0]),  # a 28-day February
])
def test_months_of_28_to_31_days(store: SQLiteStore, first: date, last: date, expected: list[float]) -> None:
    tz = "Europe/Madrid"
    zone = ZoneInfo(tz)
    start, end = day_start(first, zone), day_start(last, zone)
    store.write(constant_load("n1", start, end, step=300), {"n1": EnergyParams(interval_s=300)})
    monthly = load_energy(store, ["n1"], boundaries(first, last, "month", tz), tz)
    assert monthly["n1"].tolist() == pytest.approx(expected, abs=1e-6)


def test_meter_reset_counts_the_new_value(store: SQLiteStore) -> None:
    t = utc(2026, 5, 1, 10)
    store.write([Reading("n1", t, energy=100.0), Reading("n1", t + 60, energy=100.01),
                 Reading("n1", t + 120, energy=0.005),  # restarted from zero
                 Reading("n1", t + 180, energy=0.015)])
    table = load_energy(store, ["n1"], [utc(2026, 5, 1, 10), utc(2026, 5, 1, 11)], "UTC")
    assert table["n1"].tolist() == pytest.approx([0.01 + 0.005 + 0.01])


def test_glitch_is_dropped_with_a_per_node_bound(store: SQLiteStore) -> None:
    t = utc(2026, 5, 1, 10)
    readings = [Reading("n1", t, energy=1.0), Reading("n1", t + 60, energy=51.0),  # +50 kWh in a minute
                Reading("n1", t + 120, energy=51.01)]
    store.write(readings, {"n1": EnergyParams(interval_s=60)})
    store.write([Reading("n2", r.ts, energy=r.energy) for r in readings],
                {"n2": EnergyParams(interval_s=60, max_power_w=5_000_000)})  # an industrial meter
    table = load_energy(store, ["n1", "n2"], [utc(2026, 5, 1, 10), utc(2026, 5, 1, 11)], "UTC")
    assert table["n1"].tolist() == pytest.approx([0.01])
    assert table["n2"].tolist() == pytest.approx([50.01])


def test_increment_across_a_boundary_is_split_in_proportion(store: SQLiteStore) -> None:
    t = utc(2026, 5, 1, 10, 59, 30)
    store.write([Reading("n1", t, energy=5.0), Reading("n1", t + 60, energy=5.2)])
    table = load_energy(store, ["n1"], [utc(2026, 5, 1, 10), utc(2026, 5, 1, 11), utc(2026, 5, 1, 12)], "UTC")
    assert table["n1"].tolist() == pytest.approx([0.1, 0.1])


def test_power_only_node_integrates_and_skips_gaps(store: SQLiteStore) -> None:
    t = utc(2026, 5, 1, 10)
    readings = [Reading("p", t + i * 10, power=3600.0) for i in range(31)]  # 5 minutes at 3.6 kW
    readings += [Reading("p", t + 3600 + i * 10, power=3600.0) for i in range(2)]  # after a 55-minute gap
    store.write(readings, {"p": EnergyParams(interval_s=10)})
    table = load_energy(store, ["p"], [utc(2026, 5, 1, 10), utc(2026, 5, 1, 12)], "UTC")
    # 300 s + 10 s at 3.6 kW = 0.31 kWh; the gap (> 3 x 10 s) is not integrated.
    assert table["p"].tolist() == pytest.approx([0.31])


def test_stats_and_previous_range(store: SQLiteStore) -> None:
    tz = "UTC"
    store.write(constant_load("a", utc(2026, 1, 1), utc(2026, 1, 4), watts=1000), {"a": EnergyParams(60)})
    store.write(constant_load("b", utc(2026, 1, 2), utc(2026, 1, 4), watts=3000), {"b": EnergyParams(60)})
    marks = boundaries(date(2026, 1, 2), date(2026, 1, 4), "day", tz)
    table = load_energy(store, ["a", "b"], marks, tz)
    previous = float(load_energy(store, ["a", "b"], previous_range("day", date(2026, 1, 2), date(2026, 1, 4), tz),
                                 tz).to_numpy().sum())
    stats = energy_stats(table, previous)
    assert stats.total_kwh == pytest.approx(48 + 144)
    assert stats.average_kwh == pytest.approx(96)
    assert stats.shares == pytest.approx({"a": 0.25, "b": 0.75})
    assert stats.previous_kwh == pytest.approx(24)  # 31 Dec-2 Jan: only a's first day
    assert stats.change == pytest.approx((192 - 24) / 24)
    assert Tariff(0.15, 'EUR').cost(stats.total_kwh) == pytest.approx(28.8)
    assert Tariff(None, 'EUR').cost(stats.total_kwh) is None


def test_export_csv_is_exact(store: SQLiteStore) -> None:
    tz = "Asia/Kathmandu"
    zone = ZoneInfo(tz)
    start = day_start(date(2026, 2, 1), zone)
    store.write(constant_load("k1", start, start + 2 * 3600, watts=2000), {"k1": EnergyParams(60)})
    table = load_energy(store, ["k1", "k2"], boundaries(date(2026, 2, 1), date(2026, 2, 2), "day", tz), tz)
    assert export_csv(table, tz) == (
        "period_start,node_id,energy_kwh\n"
        "2026-02-01T00:00:00+05:45,k1,4.000\n"
        "2026-02-01T00:00:00+05:45,k2,0.000\n"
    )


@pytest.mark.parametrize(
    ("period", "start", "end", "expected"),
    [
        ("month", date(2026, 1, 1), date(2027, 1, 1), (date(2025, 1, 1), date(2026, 1, 1))),
        ("month", date(2024, 3, 1), date(2024, 4, 1), (date(2024, 2, 1), date(2024, 3, 1))),  # 29-day February
        ("year", date(2022, 1, 1), date(2027, 1, 1), (date(2017, 1, 1), date(2022, 1, 1))),
        ("day", date(2026, 3, 30), date(2026, 4, 6), (date(2026, 3, 23), date(2026, 3, 30))),
        ("hour", date(2026, 10, 26), date(2026, 10, 27), (date(2026, 10, 25), date(2026, 10, 26))),
        ("month", date(2026, 1, 15), date(2026, 2, 15), (date(2025, 12, 15), date(2026, 1, 15))),  # not whole months
    ],
)
def test_previous_period_is_calendar_true(period: str, start: date, end: date, expected: tuple[date, date]) -> None:
    from enertrack.web.services.analysis import previous_dates

    assert previous_dates(period, start, end) == expected


def test_previous_range_starts_at_local_midnight_across_dst() -> None:
    from enertrack.core.calendar import local_iso
    from enertrack.web.services.analysis import previous_range

    first, last = previous_range("hour", date(2026, 10, 26), date(2026, 10, 27), "Europe/Madrid")
    assert local_iso(first, "Europe/Madrid") == "2026-10-25T00:00:00+02:00"  # a 25-hour day, whole
    assert local_iso(last, "Europe/Madrid") == "2026-10-26T00:00:00+01:00"


@pytest.mark.parametrize(
    ("period", "start", "end", "now", "expected"),
    [
        # Today by hour at 10:30: yesterday up to 10:30, not all of yesterday.
        ("hour", date(2026, 1, 2), date(2026, 1, 3), "2026-01-02T10:30:00+01:00",
         ("2026-01-01T00:00:00+01:00", "2026-01-01T10:30:00+01:00")),
        # March by month on the 31st: February stops at its own last day, same wall clock.
        ("month", date(2026, 3, 1), date(2026, 4, 1), "2026-03-31T12:00:00+02:00",
         ("2026-02-01T00:00:00+01:00", "2026-02-28T12:00:00+01:00")),
        # This year by month: last year up to the same day and time (DST differs, the clock does not).
        ("month", date(2026, 1, 1), date(2027, 1, 1), "2026-07-15T08:00:00+02:00",
         ("2025-01-01T00:00:00+01:00", "2025-07-15T08:00:00+02:00")),
        # 30 days by day: as many days before, up to the same time of day.
        ("day", date(2026, 10, 28), date(2026, 11, 27), "2026-11-26T21:00:00+01:00",
         ("2026-09-28T00:00:00+02:00", "2026-10-27T21:00:00+01:00")),
        # Cut at the quarter hour before the same moment: the stores keep quarter-hour marks.
        ("hour", date(2026, 1, 2), date(2026, 1, 3), "2026-01-02T10:44:59+01:00",
         ("2026-01-01T00:00:00+01:00", "2026-01-01T10:30:00+01:00")),
        # A range that has ended compares with the whole previous range.
        ("hour", date(2026, 1, 2), date(2026, 1, 3), "2026-01-05T10:30:00+01:00",
         ("2026-01-01T00:00:00+01:00", "2026-01-02T00:00:00+01:00")),
    ],
)
def test_running_range_compares_with_the_same_elapsed_part(period: str, start: date, end: date, now: str,
                                                            expected: tuple[str, str]) -> None:
    from enertrack.core.calendar import local_iso

    tz = "Europe/Madrid"
    first, last = previous_range(period, start, end, tz, now=datetime.fromisoformat(now).timestamp())
    assert (local_iso(first, tz), local_iso(last, tz)) == expected


def test_running_day_stats_leave_the_future_out(store: SQLiteStore) -> None:
    from enertrack.web.services.analysis import running

    tz = "UTC"
    now = utc(2026, 1, 2, 10, 30)
    store.write(constant_load("a", utc(2026, 1, 1), now, watts=1000), {"a": EnergyParams(60)})
    marks = boundaries(date(2026, 1, 2), date(2026, 1, 3), "hour", tz)
    table = load_energy(store, ["a"], marks, tz)
    before = previous_range("hour", date(2026, 1, 2), date(2026, 1, 3), tz, now=now)
    previous = float(load_energy(store, ["a"], before, tz).to_numpy().sum())
    stats = energy_stats(table, previous, now=now, partial=running(marks, now))
    assert stats.total_kwh == pytest.approx(10.5) and stats.previous_kwh == pytest.approx(10.5)
    assert stats.change == pytest.approx(0.0)  # same load, same elapsed time: no change (not -56 %)
    assert stats.average_kwh == pytest.approx(10.5 / 11)  # 11 hours have begun; 13 are still future
    assert stats.partial is True
    assert running(marks, utc(2026, 1, 3, 0, 1)) is False


def test_the_first_quarter_hour_of_a_running_range_compares_with_nothing_yet(store: SQLiteStore) -> None:
    from enertrack.web.services.analysis import previous_energy

    tz = "Europe/Madrid"
    now = datetime.fromisoformat("2026-03-10T00:07:00+01:00").timestamp()
    store.write(constant_load("a", utc(2026, 3, 8), int(now), watts=1000), {"a": EnergyParams(60)})
    before = previous_range("hour", date(2026, 3, 10), date(2026, 3, 11), tz, now=now)
    assert before[0] == before[-1]  # yesterday up to 00:00: nothing yet to compare with
    assert previous_energy(store, ["a"], before) == 0.0  # not a query the store refuses
    assert previous_energy(store, [], previous_range("hour", date(2026, 3, 10), date(2026, 3, 11), tz)) == 0.0
    full = previous_range("hour", date(2026, 3, 10), date(2026, 3, 11), tz)
    assert previous_energy(store, ["a"], full) == pytest.approx(24.0)
