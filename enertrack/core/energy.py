"""Energy rules: kWh consumed between consecutive readings, spread over 15-minute buckets.

Pure numpy. The SQLite store applies them as readings arrive (rollups), the InfluxDB
store too (its energy ledger, enertrack/store/influx/ledger.py, one point per piece from split());
both give the same numbers because both call these functions. docs/energy.md explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enertrack.core.groups import sorted_groups

QUARTER_S = 900  # every real UTC offset is a multiple of 15 minutes
DEFAULT_MAX_POWER_W = 30_000.0  # above any single-phase PZEM-004T (100 A x 260 V = 26 kW)
GAP_INTERVALS = 3  # power is never integrated across a gap longer than 3 reporting intervals
J_PER_KWH = 3_600_000.0


@dataclass(frozen=True, slots=True)
class EnergyParams:
    """Per-node knobs of the energy rules."""

    interval_s: int = 10
    max_power_w: float = DEFAULT_MAX_POWER_W


DEFAULT_PARAMS = EnergyParams()


def pair_kwh(
    t0: int,
    e0: float | None,
    p0: float | None,
    t1: int,
    e1: float | None,
    p1: float | None,
    params: EnergyParams = DEFAULT_PARAMS,
) -> float:
    """Energy between two consecutive readings of one node (the scalar reference rule)."""
    dt = t1 - t0
    if dt <= 0:
        return 0.0
    if e0 is not None and e1 is not None:
        increment = e1 - e0 if e1 >= e0 else e1  # a decrease is a meter restarted from zero
        if increment * J_PER_KWH / dt > params.max_power_w:
            return 0.0  # implausible average power: a glitch, dropped
        return increment
    if p0 is not None and p1 is not None and dt <= GAP_INTERVALS * params.interval_s:
        return (p0 + p1) / 2.0 * dt / J_PER_KWH
    return 0.0


@dataclass(frozen=True, slots=True)
class Points:
    """Readings that carry energy or power, sorted by (series, ts); NaN marks a missing value."""

    series: np.ndarray  # int64 series key (any integer id per node)
    ts: np.ndarray  # int64 epoch seconds
    energy: np.ndarray  # float64 kWh or NaN
    power: np.ndarray  # float64 W or NaN
    interval_s: np.ndarray  # float64 per row, the node's reporting interval
    max_power_w: np.ndarray  # float64 per row, the node's glitch bound

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def pair_increments(points: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized pair_kwh over consecutive rows of the same series: (series, t0, t1, kwh)."""
    if len(points) < 2:
        empty_i = np.empty(0, dtype=np.int64)
        return empty_i, empty_i, empty_i, np.empty(0, dtype=np.float64)
    same = points.series[1:] == points.series[:-1]
    t0, t1 = points.ts[:-1][same], points.ts[1:][same]
    e0, e1 = points.energy[:-1][same], points.energy[1:][same]
    p0, p1 = points.power[:-1][same], points.power[1:][same]
    interval = points.interval_s[1:][same]
    bound = points.max_power_w[1:][same]
    dt = (t1 - t0).astype(np.float64)
    safe_dt = np.where(dt > 0, dt, 1.0)

    has_counter = ~np.isnan(e0) & ~np.isnan(e1)
    increment = np.where(e1 >= e0, e1 - e0, e1)
    plausible = increment * J_PER_KWH / safe_dt <= bound
    counter_kwh = np.where(has_counter & plausible, increment, 0.0)

    has_power = ~has_counter & ~np.isnan(p0) & ~np.isnan(p1) & (dt <= GAP_INTERVALS * interval)
    trapezoid = (p0 + p1) / 2.0 * dt / J_PER_KWH
    power_kwh = np.where(has_power, trapezoid, 0.0)

    kwh = np.where(dt > 0, np.nan_to_num(counter_kwh) + np.nan_to_num(power_kwh), 0.0)
    return points.series[1:][same], t0, t1, kwh


def split(
    series: np.ndarray, t0: np.ndarray, t1: np.ndarray, kwh: np.ndarray, bucket_s: int = QUARTER_S
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each pair at bucket boundaries, its kWh shared in proportion to time: one row per piece.

    A piece starts at the pair's first reading or at a boundary; pieces of one series never
    overlap. Zero-kWh pairs give zero pieces (the InfluxDB ledger overwrites with them); a pair
    that spans no time gives none.
    """
    keep = t1 > t0
    series, t0, t1, kwh = series[keep], t0[keep], t1[keep], kwh[keep]
    first = t0 // bucket_s
    last = (t1 - 1) // bucket_s  # a pair ending exactly on a boundary stays in its bucket
    count = last - first + 1
    idx = np.repeat(np.arange(kwh.size), count)
    offset = np.arange(idx.size) - np.repeat(np.cumsum(count) - count, count)
    bucket = (first[idx] + offset) * bucket_s
    start = np.maximum(t0[idx], bucket)
    overlap = np.minimum(t1[idx], bucket + bucket_s) - start
    return series[idx], start, kwh[idx] * overlap / (t1[idx] - t0[idx])


def spread(
    series: np.ndarray, t0: np.ndarray, t1: np.ndarray, kwh: np.ndarray, bucket_s: int = QUARTER_S
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each pair's kWh over the buckets it spans, in proportion to time; sum per bucket."""
    keep = kwh != 0.0
    piece_series, start, share = split(series[keep], t0[keep], t1[keep], kwh[keep], bucket_s)
    if share.size == 0:
        empty_i = np.empty(0, dtype=np.int64)
        return empty_i, empty_i, np.empty(0, dtype=np.float64)
    return _sum_by_key(piece_series, start // bucket_s * bucket_s, share)


def bucket_energy(points: Points, bucket_s: int = QUARTER_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kWh per (series, bucket start) for sorted points: the rules, then the split."""
    return spread(*pair_increments(points), bucket_s=bucket_s)


def _sum_by_key(
    series: np.ndarray, bucket: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum of values per (series, bucket), sorted by both."""
    order, starts = sorted_groups(series, bucket)
    first = order[starts]
    return series[first], bucket[first], np.add.reduceat(values[order], starts)
