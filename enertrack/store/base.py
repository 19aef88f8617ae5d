"""The TimeseriesStore contract shared by the embedded SQLite store and the InfluxDB store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # only queries build frames: the ingest daemon never loads pandas (~34 MB)
    import pandas as pd

from enertrack.core.energy import QUARTER_S, EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading

DEFAULT_MAX_POINTS = 2000

# Bucket widths for downsampled charts, smallest first; each is a whole number of
# the previous rollup level so a bucket is always made of whole rollup rows.
BUCKET_LADDER_S: tuple[int, ...] = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800,
)  # fmt: skip

SERIES_COLUMNS = ["ts", "min", "max", "mean", "count"]
ENERGY_COLUMNS = ["node_id", "period_start", "energy_kwh"]
# A period whose |kWh| is below this has "no energy" (float residue of incremental rollups).
ENERGY_EPSILON_KWH = 1e-9
# Both stores' write paths: (series << TS_BITS) | ts is a unique int64 key for epoch seconds up
# to 2**34 (the year 2514). Batch readings further apart than CLUSTER_GAP_S are looked up around
# separately, so one reading with a stale clock reads its own neighbours, never the months of
# history between it and the rest of the batch.
TS_BITS = 34
CLUSTER_GAP_S = 900


class StoreUnavailable(RuntimeError):
    """The store cannot take or serve data right now; the caller retries later."""


class StoreRejected(ValueError):
    """The store refused the data itself: the same batch fails again, so never retry it as is."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a batch write did."""

    stored: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Extreme:
    """A value and the epoch second it was measured."""

    value: float
    ts: int


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """Minimum, maximum and last value of one magnitude in a time range."""

    minimum: Extreme | None
    maximum: Extreme | None
    last: Extreme | None


def empty_energy_frame() -> pd.DataFrame:
    """An ENERGY_COLUMNS frame with no rows."""
    import pandas as pd  # lazy: the ingest daemon never builds a frame

    return pd.DataFrame(columns=ENERGY_COLUMNS)


def energy_frame(
    node_ids: Sequence[str] | np.ndarray, period_start: np.ndarray, energy_kwh: np.ndarray
) -> pd.DataFrame:
    """ENERGY_COLUMNS from partial rows: kWh summed per (node, period), as energy() answers.

    Periods with no energy (|kWh| <= ENERGY_EPSILON_KWH) are left out; rows are sorted by
    period_start, then node_id.
    """
    import pandas as pd  # lazy: the ingest daemon never builds a frame

    parts = pd.DataFrame(
        {
            "node_id": np.asarray(node_ids, dtype=object),
            "period_start": np.asarray(period_start, dtype=np.int64),
            "energy_kwh": np.asarray(energy_kwh, dtype=np.float64),
        }
    )
    totals = parts.groupby(["period_start", "node_id"], as_index=False, sort=True)["energy_kwh"].sum()
    totals = totals[totals["energy_kwh"].abs() > ENERGY_EPSILON_KWH]
    return totals.reset_index(drop=True)[ENERGY_COLUMNS]


def check_magnitude(magnitude: str) -> str:
    """The magnitude's name, or ValueError for anything outside the magnitudes table."""
    if magnitude not in NAMES:
        raise ValueError(f"unknown magnitude {magnitude!r}; expected one of {', '.join(NAMES)}")
    return magnitude


def bucket_width(start: int, end: int, max_points: int, raw_interval_s: int = 1) -> int:
    """Smallest ladder width that draws [start, end) with at most max_points buckets."""
    span = max(end - start, 1)
    for width in BUCKET_LADDER_S:
        if width >= raw_interval_s and span / width <= max_points:
            return width
    return BUCKET_LADDER_S[-1]


def check_boundaries(boundaries: Sequence[int]) -> np.ndarray:
    """Period boundaries as int64; ValueError unless strictly increasing multiples of 15 min."""
    bounds = np.asarray(boundaries, dtype=np.int64)
    if bounds.ndim != 1:
        raise ValueError("period boundaries must be a flat sequence of epoch seconds")
    if bounds.size and np.any(bounds % QUARTER_S):
        raise ValueError(
            f"period boundaries must be multiples of {QUARTER_S} s (15 minutes),"
            f" got {bounds.tolist()[:5]}"
        )
    if bounds.size > 1 and np.any(np.diff(bounds) <= 0):
        raise ValueError("period boundaries must be strictly increasing")
    return bounds


@runtime_checkable
class TimeseriesStore(Protocol):
    """Readings in, pandas frames out. Timestamps are epoch seconds (UTC) throughout."""

    def write(
        self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None
    ) -> WriteResult:
        """Store a batch durably and idempotently on (node_id, ts); raise StoreUnavailable."""
        ...

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        """The newest reading of each node that has one."""
        ...

    def series(
        self, node_id: str, magnitude: str, start: int, end: int,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> pd.DataFrame:
        """One magnitude over [start, end) as SERIES_COLUMNS, at most max_points buckets.

        Each row is a bucket starting at ts (a multiple of its width since the epoch)
        with the min, max and mean of the readings in it, so spikes survive.
        """
        ...

    def summary(self, node_id: str, magnitude: str, start: int, end: int) -> RangeSummary:
        """Min and max (with when) and the last value of one magnitude in [start, end).

        When the minimum or maximum occurs several times, its earliest second is given.
        """
        ...

    def energy(self, node_ids: Sequence[str], boundaries: Sequence[int]) -> pd.DataFrame:
        """kWh per node and period as ENERGY_COLUMNS; period i is [boundaries[i], boundaries[i+1]).

        Boundaries are strictly increasing multiples of 15 minutes (every real timezone's
        midnight is; see check_boundaries). Rows with no energy (|kWh| <= ENERGY_EPSILON_KWH)
        are omitted; rows are sorted by period_start, then node_id.
        """
        ...

    def readings(self, node_id: str, start: int | None = None, end: int | None = None) -> Iterator[Reading]:
        """Raw readings of one node in [start, end), oldest first."""
        ...

    def delete_node(self, node_id: str) -> int:
        """Delete every reading and aggregate of a node; return how many readings went."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
