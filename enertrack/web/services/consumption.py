"""Insight figures for a user's nodes, read through the TimeseriesStore contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from enertrack.core.baseload import BUCKET_S, BaseLoad, base_load, total_buckets
from enertrack.core.calendar import boundaries, day_start
from enertrack.core.energy import QUARTER_S
from enertrack.core.unusual import WEEKS_BACK, DayCheck, after_silence, check_day, check_days, reference_days
from enertrack.store.base import TimeseriesStore

BASE_LOAD_DAYS = 28  # four weeks of nights: a holiday week does not decide it alone
UNUSUAL_MAX_DAYS = 400  # the analysis page looks for unusual days in ranges up to this long (one query)


def power_buckets(store: TimeseriesStore, node_id: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """15-minute (start, mean W) buckets of one node in [start, end), quarter-aligned."""
    start, end = start - start % BUCKET_S, end - end % BUCKET_S
    if end <= start:
        return np.empty(0, dtype=np.int64), np.empty(0)
    frame = store.series(node_id, "power", start, end, max_points=(end - start) // BUCKET_S)
    frame = frame[frame["count"] > 0]
    return frame["ts"].to_numpy(dtype=np.int64), frame["mean"].to_numpy(dtype=float)


def load_base_load(store: TimeseriesStore, node_ids: Sequence[str], tz: str, now: float,
                   days: int = BASE_LOAD_DAYS) -> BaseLoad | None:
    """Base load of the nodes together over the `days` local days before today, or None."""
    if not node_ids:
        return None
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).date()
    start, end = day_start(today - timedelta(days=days), zone), day_start(today, zone)
    per_node = [power_buckets(store, node, start, end) for node in node_ids]
    starts, watts = total_buckets([p for p in per_node if p[0].size])
    return base_load(starts, watts, tz)


def daily_kwh(store: TimeseriesStore, node_ids: Sequence[str], first: date, end: date, tz: str) -> dict[date, float]:
    """kWh of the nodes together per local day in [first, end), days without energy left out."""
    if not node_ids or end <= first:
        return {}
    marks = boundaries(first, end, "day", tz)
    frame = store.energy(list(node_ids), marks)
    if frame.empty:
        return {}
    zone = ZoneInfo(tz)
    totals = frame.groupby("period_start")["energy_kwh"].sum()
    return {datetime.fromtimestamp(int(t), zone).date(): float(v) for t, v in totals.items()}


def past_days(store: TimeseriesStore, node_ids: Sequence[str], tz: str, now: float, days: int = 14) -> list[DayCheck]:
    """The last `days` complete local days, each against its four same weekdays before."""
    today = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    shown = [today - timedelta(days=k) for k in range(days, 0, -1)]
    since = shown[0] - timedelta(weeks=WEEKS_BACK)
    return check_days(shown, daily_kwh(store, node_ids, since, today, tz), since)


def _kwh(store: TimeseriesStore, node_ids: Sequence[str], start: int, end: int) -> float:
    if end <= start:
        return 0.0
    frame = store.energy(list(node_ids), [start, end])
    return float(frame["energy_kwh"].sum()) if not frame.empty else 0.0


def today_so_far(store: TimeseriesStore, node_ids: Sequence[str], tz: str, now: float) -> DayCheck | None:
    """Today up to now (to the quarter hour) against the same part of its four same weekdays before."""
    if not node_ids:
        return None
    zone = ZoneInfo(tz)
    moment = datetime.fromtimestamp(now, zone)
    today = moment.date()

    def until_same_time(day: date) -> tuple[int, int]:
        start = day_start(day, zone)
        # The same wall-clock time that day (a DST day is 23 or 25 hours long), to the quarter.
        wall = int(datetime.combine(day, moment.time(), tzinfo=zone).timestamp())
        return start, max(start, wall - wall % QUARTER_S)

    references = reference_days(today)
    since = references[-1] - timedelta(days=1)
    partial = after_silence(daily_kwh(store, node_ids, since, today, tz), since)
    history = {}
    for day in references:
        start, end = until_same_time(day)
        if day not in partial and (kwh := _kwh(store, node_ids, start, end)) > 0:
            history[day] = kwh
    start, end = until_same_time(today)
    return check_day(today, _kwh(store, node_ids, start, end), history)


def unusual_in_range(store: TimeseriesStore, node_ids: Sequence[str], first: date, end: date, tz: str,
                     now: float) -> list[DayCheck] | None:
    """The flagged days of [first, end) up to today (today so far), oldest first; None for a range too long.

    The same rule as the panel's card (past_days, today_so_far), so both name the same days.
    """
    if (end - first).days > UNUSUAL_MAX_DAYS:
        return None
    today = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    shown = [first + timedelta(days=k) for k in range((min(end, today) - first).days)]
    checks: list[DayCheck] = []
    if shown and node_ids:
        since = first - timedelta(weeks=WEEKS_BACK)
        checks = check_days(shown, daily_kwh(store, node_ids, since, shown[-1] + timedelta(days=1), tz), since)
    if first <= today < end and (now_check := today_so_far(store, node_ids, tz, now)) is not None:
        checks.append(now_check)
    return [c for c in checks if c.unusual]
