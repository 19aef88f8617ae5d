"""Calendar-true boundaries: local midnights, 23/25-hour DST days, +05:45, real months."""

from __future__ import annotations

from datetime import date

import pytest

from enertrack.core.calendar import boundaries, local_iso


def iso(marks: list[int], tz: str) -> list[str]:
    return [local_iso(m, tz) for m in marks]


@pytest.mark.parametrize(
    ("day", "tz", "hours", "first"),
    [
        (date(2026, 3, 29), "Europe/Madrid", 23, "2026-03-29T00:00:00+01:00"),
        (date(2026, 10, 25), "Europe/Madrid", 25, "2026-10-25T00:00:00+02:00"),
        (date(2026, 6, 1), "Europe/Madrid", 24, "2026-06-01T00:00:00+02:00"),
        # Santiago moves its clocks at midnight: 6 Sep 2026 starts at 01:00.
        (date(2026, 9, 6), "America/Santiago", 23, "2026-09-06T01:00:00-03:00"),
        (date(2026, 4, 4), "America/Santiago", 25, "2026-04-04T00:00:00-03:00"),
        (date(2026, 1, 1), "Asia/Kathmandu", 24, "2026-01-01T00:00:00+05:45"),
        (date(2026, 1, 1), "Asia/Kolkata", 24, "2026-01-01T00:00:00+05:30"),
    ],
)
def test_hours_of_a_day(day: date, tz: str, hours: int, first: str) -> None:
    marks = boundaries(day, date.fromordinal(day.toordinal() + 1), "hour", tz)
    assert len(marks) - 1 == hours
    assert iso(marks, tz)[0] == first
    assert all(m % 900 == 0 for m in marks)  # every real offset is whole quarters


def test_madrid_spring_skips_two_oclock() -> None:
    marks = iso(boundaries(date(2026, 3, 29), date(2026, 3, 30), "hour", "Europe/Madrid"), "Europe/Madrid")
    assert marks[1:4] == ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]


def test_madrid_autumn_repeats_two_oclock() -> None:
    marks = iso(boundaries(date(2026, 10, 25), date(2026, 10, 26), "hour", "Europe/Madrid"), "Europe/Madrid")
    assert marks[2:5] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_lord_howe_half_hour_change_gives_a_half_hour_hour() -> None:
    tz = "Australia/Lord_Howe"  # +10:30 -> +11:00 at 02:00, and back at 02:00 -> 01:30
    spring = iso(boundaries(date(2026, 10, 4), date(2026, 10, 5), "hour", tz), tz)
    assert len(spring) - 1 == 24
    assert spring[1:4] == ["2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"]
    autumn = iso(boundaries(date(2026, 4, 5), date(2026, 4, 6), "hour", tz), tz)
    assert len(autumn) - 1 == 24  # hour 01 lasts 90 minutes: 01:30-02:00 happens twice
    assert autumn[1:3] == ["2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30"]


@pytest.mark.parametrize(("year", "days"), [
    (2027, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
    (2028, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),  # leap year
])
def test_months_have_their_real_lengths(year: int, days: list[int]) -> None:
    marks = boundaries(date(year, 1, 1), date(year + 1, 1, 1), "month", "UTC")
    assert [(b - a) // 86400 for a, b in zip(marks, marks[1:], strict=False)] == days


def test_days_across_dst_are_23_and_25_hours() -> None:
    marks = boundaries(date(2026, 3, 28), date(2026, 3, 31), "day", "Europe/Madrid")
    assert [(b - a) // 3600 for a, b in zip(marks, marks[1:], strict=False)] == [24, 23, 24]


def test_range_is_exact_even_mid_month() -> None:
    marks = iso(boundaries(date(2026, 1, 15), date(2026, 3, 10), "month", "UTC"), "UTC")
    assert marks == ["2026-01-15T00:00:00+00:00", "2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00",
                     "2026-03-10T00:00:00+00:00"]


def test_years() -> None:
    marks = iso(boundaries(date(2024, 1, 1), date(2027, 1, 1), "year", "America/Santiago"), "America/Santiago")
    assert marks == ["2024-01-01T00:00:00-03:00", "2025-01-01T00:00:00-03:00", "2026-01-01T00:00:00-03:00",
                     "2027-01-01T00:00:00-03:00"]


def test_end_must_follow_start() -> None:
    with pytest.raises(ValueError):
        boundaries(date(2026, 1, 2), date(2026, 1, 2), "day", "UTC")
