"""The InfluxDB energy ledger: the energy rules kept as points at write time (pure, no I/O).

A node's consecutive energy/power readings cut its timeline into pairs. Each pair is cut
again at 15-minute UTC boundaries (``energy.split``) and every piece becomes one point of
measurement ``energy_ledger`` (tag ``node_id``, field ``kwh``) stamped at the piece's start.
Pieces of one node never overlap, so a stamp names exactly one piece. A reading that arrives
late between a and b only adds cut points, so every stamp of the old pieces is a stamp of the
new ones: writing the new pieces of [a, b] replaces the old values exactly (InfluxDB keeps the
last value written for a series, field and time). The sum of a node's points over [x, y), x
and y on 15-minute boundaries, is then the rules' kWh for that range (docs/energy.md).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from enertrack.core.energy import DEFAULT_PARAMS, EnergyParams, Points, pair_increments, split
from enertrack.core.reading import Reading
from enertrack.store.base import CLUSTER_GAP_S, TS_BITS

LEDGER_MEASUREMENT = "energy_ledger"
LEDGER_FIELD = "kwh"

# ts, energy kWh, power W, reporting interval s, glitch bound W (NaN: the reading lacks it)
EnergyRow = tuple[int, float, float, float, float]
Stamp = tuple[str, int]  # (node_id, epoch second)


@dataclass(frozen=True, slots=True)
class Cluster:
    """Batch readings close in time: the span [start, stop) and the nodes that have readings in it."""

    start: int
    stop: int
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LedgerPoint:
    """One piece of a pair: kWh from ``ts`` to the next piece of the node."""

    node_id: str
    ts: int
    kwh: float


@dataclass(frozen=True, slots=True)
class Window:
    """What the store already holds around a batch.

    ``existing``: the (node, ts) of the batch already stored (any field). ``rows``: per node, the
    stored energy/power points in each cluster, the last one before it and the first after it.
    """

    existing: frozenset[Stamp]
    rows: Mapping[str, Sequence[EnergyRow]]


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive periods of the same length: [start, stop) cut every ``every`` seconds."""

    start: int
    stop: int
    every: int


def clusters(readings: Iterable[Reading], gap_s: int = CLUSTER_GAP_S) -> list[Cluster]:
    """Group a batch's readings by time: a gap longer than gap_s starts a new cluster."""
    stamps = sorted((int(r.ts), r.node_id) for r in readings)
    out: list[Cluster] = []
    group: list[tuple[int, str]] = []
    for stamp in stamps:
        if group and stamp[0] - group[-1][0] > gap_s:
            out.append(_cluster(group))
            group = []
        group.append(stamp)
    if group:
        out.append(_cluster(group))
    return out


def _cluster(group: Sequence[tuple[int, str]]) -> Cluster:
    return Cluster(group[0][0], group[-1][0] + 1, tuple(dict.fromkeys(node for _, node in group)))


def reading_row(reading: Reading, params: EnergyParams | None) -> EnergyRow | None:
    """The energy point of a reading as it is stored, or None when it has no energy or power."""
    energy, power = _finite(reading.energy), _finite(reading.power)
    if math.isnan(energy) and math.isnan(power):
        return None
    knobs = params or DEFAULT_PARAMS
    return (int(reading.ts), energy, power, float(knobs.interval_s), float(knobs.max_power_w))


def _finite(value: float | None) -> float:
    """The value, or NaN for a missing or non-finite one (never written to InfluxDB)."""
    return float(value) if value is not None and math.isfinite(float(value)) else math.nan


def plan_ledger(
    window: Window,
    written: Iterable[Reading],
    params: Mapping[str, EnergyParams] | None,
    touched: Iterable[Stamp],
) -> list[LedgerPoint]:
    """Ledger points to send with a batch: the pieces of every pair that has a batch reading.

    ``written`` are the readings the batch writes (their first occurrence, not stored yet),
    ``touched`` every (node, ts) of the batch, stored or not: the pieces next to a redelivered
    reading are written again too, so a ledger left behind by a failed write heals itself.
    """
    knobs = params or {}
    rows = {node: list(node_rows) for node, node_rows in window.rows.items()}
    for reading in written:
        row = reading_row(reading, knobs.get(reading.node_id))
        if row is not None:
            rows.setdefault(reading.node_id, []).append(row)
    return ledger_points(rows, touched=set(touched))


def plan_repair(
    window: Window, touched: Iterable[Stamp], attempted: Iterable[LedgerPoint]
) -> list[LedgerPoint]:
    """After a refused write: the pieces of what is really stored, and 0 where a stamp is stale.

    InfluxDB stores the valid points of a refused batch (a "partial write"), so the ledger
    points sent with it may describe readings that were not stored. Rewriting every pair that
    holds one of those stamps, and 0 at the stamps that start no piece any more, makes the
    ledger match the stored readings again.
    """
    return ledger_points(window.rows, touched=set(touched), dirty={(p.node_id, p.ts) for p in attempted})


def ledger_points(
    rows_by_node: Mapping[str, Iterable[EnergyRow]],
    touched: Collection[Stamp] | None = None,
    dirty: Collection[Stamp] = (),
) -> list[LedgerPoint]:
    """The pieces of a node's pairs (all of them when touched is None) with their kWh.

    With ``touched``, only pairs with an endpoint in it and pairs that contain a ``dirty``
    stamp; a dirty stamp that starts no piece gets a 0 point. Rows of a node may come in any
    order and repeat (the same stored point seen by two clusters); each ts counts once.
    """
    nodes = list(rows_by_node)
    points = _points(nodes, rows_by_node)
    series, t0, t1, kwh = pair_increments(points)
    if touched is not None:
        chosen = _touching(nodes, series, t0, t1, touched) | _containing(nodes, series, t0, t1, dirty)
        series, t0, t1, kwh = series[chosen], t0[chosen], t1[chosen], kwh[chosen]
    piece_series, start, share = split(series, t0, t1, kwh)
    out = [
        LedgerPoint(nodes[s], t, k)
        for s, t, k in zip(piece_series.tolist(), start.tolist(), share.tolist(), strict=True)
    ]
    starts = {(p.node_id, p.ts) for p in out}
    out += [LedgerPoint(node, ts, 0.0) for node, ts in sorted(set(dirty) - starts)]
    return out


def _points(nodes: Sequence[str], rows_by_node: Mapping[str, Iterable[EnergyRow]]) -> Points:
    """Points sorted by (node, ts), one per ts (the first row given for it)."""
    columns: list[tuple[int, int, float, float, float, float]] = []
    for code, node in enumerate(nodes):
        seen: set[int] = set()
        for ts, energy, power, interval, bound in rows_by_node[node]:
            if ts not in seen:
                seen.add(ts)
                columns.append((code, ts, energy, power, interval, bound))
    columns.sort(key=lambda row: (row[0], row[1]))
    data = np.array(columns, dtype=np.float64).reshape(-1, 6)  # ts < 2**53: exact
    return Points(
        series=data[:, 0].astype(np.int64),
        ts=data[:, 1].astype(np.int64),
        energy=data[:, 2],
        power=data[:, 3],
        interval_s=data[:, 4],
        max_power_w=data[:, 5],
    )


def _keys(nodes: Sequence[str], stamps: Collection[Stamp]) -> np.ndarray:
    """(node, ts) stamps of known nodes as int64 keys ordered like (series, ts)."""
    code = {node: index for index, node in enumerate(nodes)}
    keys = [(code[node] << TS_BITS) | ts for node, ts in stamps if node in code]
    return np.array(sorted(keys), dtype=np.int64)


def _touching(
    nodes: Sequence[str], series: np.ndarray, t0: np.ndarray, t1: np.ndarray, touched: Collection[Stamp]
) -> np.ndarray:
    """Pairs whose first or second reading is at a touched stamp."""
    keys = _keys(nodes, touched)
    return np.isin((series << TS_BITS) | t0, keys) | np.isin((series << TS_BITS) | t1, keys)


def _containing(
    nodes: Sequence[str], series: np.ndarray, t0: np.ndarray, t1: np.ndarray, dirty: Collection[Stamp]
) -> np.ndarray:
    """Pairs [t0, t1) that contain a dirty stamp (pairs come sorted by series, then t0)."""
    chosen = np.zeros(series.size, dtype=bool)
    keys = _keys(nodes, dirty)
    if series.size == 0 or keys.size == 0:
        return chosen
    pair = np.searchsorted((series << TS_BITS) | t0, keys, side="right") - 1
    found = pair >= 0
    pair, keys = pair[found], keys[found]
    inside = (series[pair] == keys >> TS_BITS) & ((keys & ((1 << TS_BITS) - 1)) < t1[pair])
    chosen[pair[inside]] = True
    return chosen


def runs(bounds: Sequence[int]) -> list[Run]:
    """Periods [b_i, b_i+1) grouped into runs of consecutive periods of the same length.

    A run is one ``aggregateWindow(every: length, offset: start mod length)``: hours over a
    month are one run, days over a year a few (a DST day is its own), months one run each.
    """
    out: list[Run] = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=False):
        length = int(stop) - int(start)
        if out and out[-1].every == length and out[-1].stop == start:
            out[-1] = Run(out[-1].start, int(stop), length)
        else:
            out.append(Run(int(start), int(stop), length))
    return out
