"""Calendar-true period boundaries in any IANA timezone (pure; no pandas frequency guessing).

A local day starts at the first instant whose local date is that day: midnight, or 01:00
where a DST change skips midnight (America/Santiago). Hours are local clock hours, each
starting at the first instant a local clock shows it, so a DST day has 23 or 25 of them
(a repeated hour counts twice), Lord Howe's half-hour change gives a 30-minute hour, and
+05:30 / +05:45 zones get their own hour marks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

EARLIEST = date(2000, 1, 1)  # readings are refused before 2020; ranges may start a little earlier
LATEST = date(2200, 1, 1)


def parse_day(value: object) -> date | None:
    """A local date from untrusted input ('2026-01-02' or a picker's '2026-01-02T00:00:00'), in bounds."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def picked_days(start: object, end: object) -> tuple[date, date] | str:
    """[first day, the day after the last) from a date picker's two untrusted days, both included.

    Or an error code: bad_date (missing or unreadable), end_before_start.
    """
    first, last = parse_day(start), parse_day(end)
    if first is None or last is None:
        return "bad_date"
    if last < first:
        return "end_before_start"
    return first, last + timedelta(days=1)


class Period(StrEnum):
    """The analysis granularities."""

    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def _epoch(local: datetime) -> int:
    return int(local.astimezone(UTC).timestamp())


def day_start(day: date, tz: ZoneInfo) -> int:
    """Epoch second at which local date `day` begins (fold=0 maps a skipped midnight forward)."""
    return _epoch(datetime.combine(day, time(0), tzinfo=tz))


def _days(start: date, end: date) -> Iterator[date]:
    current = start
    while current < end:
        yield current
        current += timedelta(days=1)


def _months(start: date, end: date) -> Iterator[date]:
    current = date(start.year, start.month, 1)
    while current < end:
        yield current
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)


def _years(start: date, end: date) -> Iterator[date]:
    current = date(start.year, 1, 1)
    while current < end:
        yield current
        current = date(current.year + 1, 1, 1)


def boundaries(start: date, end: date, period: Period | str, tz_name: str) -> list[int]:
    """Epoch seconds splitting local [start, end) into periods (N periods -> N+1 marks).

    The range is exactly [start 00:00, end 00:00) local: a start or end in the middle of a
    month (or year) gives a shorter first or last period, never data outside the range.
    """
    kind = Period(period)
    tz = ZoneInfo(tz_name)
    first, last = day_start(start, tz), day_start(end, tz)
    if last <= first:
        raise ValueError("the end date must be after the start date")
    marks: set[int] = {first, last}
    if kind is Period.HOUR:
        for day in _days(start, end):
            for hour in range(24):
                for fold in (0, 1):  # both readings of a repeated hour when clocks go back
                    mark = _epoch(datetime.combine(day, time(hour), tzinfo=tz).replace(fold=fold))
                    # An hour starts at the first instant a local clock shows HH, as a day does:
                    # a skipped 02:00 maps elsewhere, and is kept only if that is still hour 02
                    # (Lord Howe jumps 02:00 -> 02:30: its hour 02 is the half hour from 02:30).
                    if datetime.fromtimestamp(mark, tz).hour == hour:
                        marks.add(mark)
    else:
        starts = {Period.DAY: _days, Period.MONTH: _months, Period.YEAR: _years}[kind]
        marks.update(day_start(d, tz) for d in starts(start, end))
    return sorted(m for m in marks if first <= m <= last)


def local_iso(epoch: int, tz_name: str) -> str:
    """ISO-8601 with the local offset, e.g. 2026-03-29T00:00:00+01:00."""
    return datetime.fromtimestamp(epoch, ZoneInfo(tz_name)).isoformat()


def today(tz_name: str, now: float | None = None) -> date:
    """The local date now in tz_name."""
    moment = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return moment.astimezone(ZoneInfo(tz_name)).date()
