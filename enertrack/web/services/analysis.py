"""Consumption analysis on aggregates: energy per node and calendar period, and its statistics.

Pure pandas over what a store's energy() returns; the store does the per-reading work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from enertrack.core.calendar import day_start, local_iso, picked_days
from enertrack.core.energy import QUARTER_S
from enertrack.csv_cells import safe_row
from enertrack.store.base import TimeseriesStore

KWH_DECIMALS = 3  # watt-hour resolution, the PZEM-004T's own
EXPORT_HEADER = ("period_start", "node_id", "energy_kwh")


def energy_table(raw: pd.DataFrame, node_ids: Sequence[str], boundaries: Sequence[int], tz: str) -> pd.DataFrame:
    """kWh with one row per period (local tz-aware index) and one column per node, zeros filled."""
    starts = list(boundaries[:-1])
    if raw.empty:
        table = pd.DataFrame(0.0, index=starts, columns=list(node_ids))
    else:
        table = (raw.pivot_table(index="period_start", columns="node_id", values="energy_kwh", aggfunc="sum")
                 .reindex(index=starts, columns=list(node_ids)).fillna(0.0))
    table.index = pd.to_datetime(table.index, unit="s", utc=True).tz_convert(tz)
    table.index.name = "period_start"
    table.columns.name = "node_id"
    return table.astype(float)


def load_energy(store: TimeseriesStore, node_ids: Sequence[str], boundaries: Sequence[int], tz: str) -> pd.DataFrame:
    """energy_table straight from a store."""
    return energy_table(store.energy(list(node_ids), list(boundaries)), node_ids, boundaries, tz)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _whole_months(period: str, start: date, end: date) -> int | None:
    """How many months [start, end) spans when it is whole months of a month/year view, else None."""
    if period in ("month", "year") and start.day == 1 and end.day == 1:
        return (end.year - start.year) * 12 + end.month - start.month
    return None


def previous_dates(period: str, start: date, end: date) -> tuple[date, date]:
    """The same number of calendar units just before [start, end): the comparison baseline.

    Whole months (or years) compare with as many months before; anything else with as many
    days before. Local dates, so a DST change or a leap day never shifts the comparison.
    """
    months = _whole_months(period, start, end)
    if months is not None:
        return _add_months(start, -months), start
    return start - (end - start), start


def _same_moment_before(local_now: datetime, period: str, start: date, end: date) -> datetime:
    """local_now moved back by the length of [start, end) in calendar units, same wall clock."""
    months = _whole_months(period, start, end)
    if months is None:
        day = local_now.date() - (end - start)
    else:
        first = _add_months(date(local_now.year, local_now.month, 1), -months)
        following = _add_months(first, 1)
        day = first.replace(day=min(local_now.day, (following - first).days))  # 31 March -> 28 February
    return datetime.combine(day, local_now.time(), tzinfo=local_now.tzinfo)


def previous_range(period: str, start: date, end: date, tz: str, now: float | None = None) -> list[int]:
    """[first, last] epoch seconds of the previous_dates range in tz.

    When `now` falls inside [start, end) the range is still running (today, this month,
    this year): the baseline then stops at the same moment of the previous range (to the
    quarter hour), so a half-elapsed day is compared with the same half of the day before.
    """
    zone = ZoneInfo(tz)
    before_start, before_end = previous_dates(period, start, end)
    first, last = day_start(before_start, zone), day_start(before_end, zone)
    if now is not None and day_start(start, zone) < now < day_start(end, zone):
        local_now = datetime.fromtimestamp(now, zone)
        moment = int(_same_moment_before(local_now, period, start, end).timestamp())
        # Stores answer on quarter-hour marks (every real UTC offset is whole quarters).
        last = min(last, moment - moment % QUARTER_S)
    return [first, max(first, last)]


def previous_energy(store: TimeseriesStore, node_ids: Sequence[str], before: Sequence[int]) -> float:
    """kWh of the nodes over previous_range's [first, last]; 0 when it is empty.

    It is empty in the first quarter hour of a running range: the same moment of the previous
    range, cut to the quarter hour, is still its start.
    """
    if not node_ids or before[-1] <= before[0]:
        return 0.0
    return float(store.energy(list(node_ids), list(before))["energy_kwh"].sum())


def running(boundaries: Sequence[int], now: float | None) -> bool:
    """Whether `now` falls inside the range the boundaries span (its last period has not ended)."""
    return now is not None and boundaries[0] < now < boundaries[-1]


@dataclass(frozen=True, slots=True)
class EnergyStats:
    """The figures beside the chart."""

    total_kwh: float
    average_kwh: float  # per period
    peak_start: pd.Timestamp | None
    peak_kwh: float
    shares: dict[str, float]  # node -> fraction of the total (0..1)
    node_totals: dict[str, float]
    previous_kwh: float
    change: float | None  # fraction vs the previous range; None when that had no energy
    partial: bool = False  # the range is still running: previous_kwh covers the same elapsed part


@dataclass(frozen=True, slots=True)
class Tariff:
    """A user's price per kWh (None: costs are not shown) and currency."""

    price: float | None
    currency: str

    def cost(self, kwh: float) -> float | None:
        """kWh times the price, when there is one."""
        return None if self.price is None else kwh * self.price


def energy_stats(table: pd.DataFrame, previous_kwh: float, now: float | None = None,
                 partial: bool = False) -> EnergyStats:
    """Total, average per period, peak period, node shares and change against the previous range.

    With `now`, periods that have not started yet (the rest of this year, say) are left out
    of the average: they are future, not zero consumption.
    """
    per_period = table.sum(axis=1)
    total = float(per_period.sum())
    node_totals = {str(node): float(value) for node, value in table.sum(axis=0).items()}
    shares = {node: (value / total if total > 0 else 0.0) for node, value in node_totals.items()}
    has_peak = len(per_period) > 0 and total > 0
    begun = per_period if now is None else per_period[per_period.index <= pd.Timestamp(now, unit="s", tz="UTC")]
    return EnergyStats(
        total_kwh=total,
        average_kwh=float(begun.mean()) if len(begun) else 0.0,
        peak_start=per_period.idxmax() if has_peak else None,
        peak_kwh=float(per_period.max()) if has_peak else 0.0,
        shares=shares,
        node_totals=node_totals,
        previous_kwh=previous_kwh,
        change=(total - previous_kwh) / previous_kwh if previous_kwh > 0 else None,
        partial=partial,
    )


@dataclass(frozen=True, slots=True)
class CostStats:
    """The money beside the chart's kWh: each node priced at its own site's tariffs (energy only)."""

    total: float
    average: float  # per begun period, as EnergyStats.average_kwh
    peak: float  # of the period with the most kWh
    previous: float | None
    nodes: dict[str, float]


def cost_stats(costs: pd.DataFrame, stats: EnergyStats, previous: float | None, now: float | None = None) -> CostStats:
    """The cost figures of a cost table shaped as the energy table (see bill.period_costs)."""
    per_period = costs.sum(axis=1)
    begun = per_period if now is None else per_period[per_period.index <= pd.Timestamp(now, unit="s", tz="UTC")]
    peak = float(per_period.loc[stats.peak_start]) if stats.peak_start is not None else 0.0
    return CostStats(float(per_period.sum()), float(begun.mean()) if len(begun) else 0.0, peak, previous,
                     {str(node): float(value) for node, value in costs.sum(axis=0).items()})


def export_rows(table: pd.DataFrame, tz: str) -> Iterable[tuple[str, str, str]]:
    """One (period_start ISO with local offset, node_id, kWh) per node and period."""
    for stamp, row in table.iterrows():
        start = local_iso(int(pd.Timestamp(stamp).timestamp()), tz)  # type: ignore[arg-type]
        for node, value in row.items():
            yield start, str(node), f"{value:.{KWH_DECIMALS}f}"


def export_csv(table: pd.DataFrame, tz: str) -> str:
    """The CSV the analysis page downloads and `enertrack export` prints."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(safe_row(row) for row in export_rows(table, tz))  # node ids may look like formulas
    return buffer.getvalue()


MAX_PERIODS = {"hour": 24 * 31, "day": 366 * 3, "month": 12 * 50, "year": 100}


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """A validated analysis query (from untrusted callback or CLI input)."""

    period: str
    start: date
    end: date


def default_range(period: str, local_today: date) -> tuple[date, date]:
    """What each granularity shows first, [start, end): today by hour, 30 days by day, this year by month, 5 years."""
    if period == "hour":
        return local_today, local_today + timedelta(days=1)
    if period == "day":
        return local_today - timedelta(days=29), local_today + timedelta(days=1)
    if period == "month":
        return date(local_today.year, 1, 1), date(local_today.year + 1, 1, 1)
    return date(local_today.year - 4, 1, 1), date(local_today.year + 1, 1, 1)


def parse_request(period: object, start: object, end: object) -> AnalysisRequest | str:
    """An AnalysisRequest, or an error code: bad_period, bad_date, end_before_start, too_many_periods.

    `end` is the last day shown, as a date picker says it (inclusive); the request's end is
    the day after, the exclusive end every calculation uses.
    """
    if not isinstance(period, str) or period not in MAX_PERIODS:
        return "bad_period"
    days = picked_days(start, end)
    if isinstance(days, str):
        return days
    first, last = days
    days = (last - first).days
    estimate = {"hour": days * 24, "day": days, "month": days / 28, "year": days / 365}[str(period)]
    if estimate > MAX_PERIODS[str(period)]:
        return "too_many_periods"
    return AnalysisRequest(str(period), first, last)
