"""What one write batch adds to the rollups: per-bucket statistics and energy deltas (pure numpy).

The SQLite store merges these rows into its rollup tables in the same transaction
as the readings, so every rollup level always equals the rules applied to every
raw reading, whatever order the readings arrived in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enertrack.core.energy import QUARTER_S, Points, pair_increments, spread
from enertrack.core.groups import sorted_groups
from enertrack.core.magnitudes import NAMES

WIDTH = len(NAMES)


@dataclass(frozen=True, slots=True)
class Aggregates:
    """Partial aggregates per (series, bucket), sorted by both: to be added to a rollup level."""

    series: np.ndarray  # int64
    bucket: np.ndarray  # int64, bucket start in epoch seconds
    count: np.ndarray  # int64 (rows, magnitudes): readings that carried the magnitude
    total: np.ndarray  # float64 (rows, magnitudes): their sum (0 when none)
    low: np.ndarray  # float64 (rows, magnitudes): their minimum, NaN when none
    high: np.ndarray  # float64 (rows, magnitudes): their maximum, NaN when none
    energy_kwh: np.ndarray  # float64 (rows,): energy rule contribution (may be a negative delta)

    def __len__(self) -> int:
        return int(self.series.shape[0])


def group(
    series: np.ndarray,
    bucket: np.ndarray,
    count: np.ndarray,
    total: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    energy_kwh: np.ndarray,
) -> Aggregates:
    """Combine rows with the same (series, bucket): counts, sums and energy add, min/max combine."""
    if series.size == 0:
        return Aggregates(series, bucket, count, total, low, high, energy_kwh)
    order, starts = sorted_groups(series, bucket)
    first = order[starts]
    return Aggregates(
        series[first],
        bucket[first],
        np.add.reduceat(count[order], starts, axis=0),
        np.add.reduceat(total[order], starts, axis=0),
        np.fmin.reduceat(low[order], starts, axis=0),  # fmin/fmax skip NaN (a missing value)
        np.fmax.reduceat(high[order], starts, axis=0),
        np.add.reduceat(energy_kwh[order], starts),
    )


def reading_aggregates(
    series: np.ndarray, ts: np.ndarray, values: np.ndarray, level: int
) -> Aggregates:
    """Count, sum, min and max of each magnitude; values: (rows, magnitudes), NaN=missing."""
    present = ~np.isnan(values)
    return group(
        series,
        ts // level * level,
        present.astype(np.int64),
        np.where(present, values, 0.0),
        values,
        values,
        np.zeros(series.size, dtype=np.float64),
    )


def energy_aggregates(series: np.ndarray, bucket: np.ndarray, kwh: np.ndarray) -> Aggregates:
    """Rows that only add energy (no readings counted)."""
    rows = series.size
    nan = np.full((rows, WIDTH), np.nan)
    return Aggregates(
        series,
        bucket,
        np.zeros((rows, WIDTH), dtype=np.int64),
        np.zeros((rows, WIDTH)),
        nan,
        nan.copy(),
        kwh,
    )


def merge(*parts: Aggregates) -> Aggregates:
    """One set of rows from several (same level)."""
    return group(
        np.concatenate([p.series for p in parts]),
        np.concatenate([p.bucket for p in parts]),
        np.concatenate([p.count for p in parts]),
        np.concatenate([p.total for p in parts]),
        np.concatenate([p.low for p in parts]),
        np.concatenate([p.high for p in parts]),
        np.concatenate([p.energy_kwh for p in parts]),
    )


def coarsen(rows: Aggregates, level: int) -> Aggregates:
    """The same rows regrouped into buckets of a coarser level (a multiple of the current one)."""
    return group(
        rows.series,
        rows.bucket // level * level,
        rows.count,
        rows.total,
        rows.low,
        rows.high,
        rows.energy_kwh,
    )


def make_points(
    series: np.ndarray,
    ts: np.ndarray,
    energy: np.ndarray,
    power: np.ndarray,
    interval_s: np.ndarray,
    max_power_w: np.ndarray,
) -> Points:
    """Points sorted by (series, ts); each row keeps its own energy parameters."""
    order = np.lexsort((ts, series))
    return Points(
        series[order], ts[order], energy[order], power[order], interval_s[order], max_power_w[order]
    )


def energy_delta(old: Points, new: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kWh per (series, quarter) turning the rules applied to `old` into those applied to `new`.

    `old` is a window of stored points, `new` the same window plus the batch's points; each
    point carries the parameters it was stored with, and a pair is counted with those of its
    later point. Pairs present in both (same series, t0, t1, hence the same later point and
    the same kWh) cancel exactly and are dropped before spreading, so no float residue is
    added to buckets the batch does not touch; so do the pairs `old` makes across the gaps
    of a window fetched in pieces, since no new point lies in those gaps.
    """
    s_new, a_new, b_new, k_new = pair_increments(new)
    s_old, a_old, b_old, k_old = pair_increments(old)
    series = np.concatenate([s_new, s_old])
    t0 = np.concatenate([a_new, a_old])
    t1 = np.concatenate([b_new, b_old])
    kwh = np.concatenate([k_new, -k_old])
    if series.size > 1:
        order = np.lexsort((t1, t0, series))
        series, t0, t1, kwh = series[order], t0[order], t1[order], kwh[order]
        same = (series[1:] == series[:-1]) & (t0[1:] == t0[:-1]) & (t1[1:] == t1[:-1])
        drop = np.zeros(series.size, dtype=bool)
        drop[1:] |= same
        drop[:-1] |= same
        keep = ~drop
        series, t0, t1, kwh = series[keep], t0[keep], t1[keep], kwh[keep]
    return spread(series, t0, t1, kwh, bucket_s=QUARTER_S)
