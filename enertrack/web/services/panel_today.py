"""Today on the panel: power through the day (total and per node) and energy by local hour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.core.calendar import boundaries, today
from enertrack.core.energy import QUARTER_S
from enertrack.models import Node
from enertrack.store.base import TimeseriesStore

# Quarter hours: the energy rollups' own grid, so the whole day of every node is one query
# (a store.series per node cost ~20 ms each). Every real timezone's hours fall on it.
BUCKET_S = QUARTER_S


@dataclass(frozen=True, slots=True)
class PowerToday:
    """Mean power per quarter hour since `start`, per node and in total (from the energy used)."""

    ts: np.ndarray  # quarter starts, epoch seconds, every quarter from the first to the current one
    nodes: dict[str, np.ndarray]  # W: the quarter's kWh over its length (the current one: so far)
    total: np.ndarray  # the sum over the nodes


@dataclass(frozen=True, slots=True)
class EnergyToday:
    """kWh of all the nodes per local hour of today."""

    hours: list[int]  # N + 1 marks: the local hours of today (23 to 25 of them) and midnight after
    kwh: np.ndarray  # N values


@dataclass(frozen=True, slots=True)
class Today:
    """What the panel's chart shows: whose nodes, today's hours, their power and energy."""

    nodes: list[str]
    marks: list[int]
    power: PowerToday  # from midnight, or from `resumed` on
    energy: EnergyToday
    resumed: int | None  # the bucket the browser's chart ends with, when it can be patched


def today_view(db: Session, store: TimeseriesStore, user_id: int, tz: str, now: float,
               state: object = None) -> Today:
    """Today for user_id's nodes: the whole day, or from the last bucket a browser drew (state)."""
    node_ids = list(db.scalars(select(Node.node_id).where(Node.owner_id == user_id).order_by(Node.node_id)))
    marks = day_marks(tz, now)
    resumed = resumable(state, node_ids, marks[0], now)
    grid, kwh = quarters_today(store, node_ids, marks, now)
    return Today(node_ids, marks, power_today(grid, kwh, marks[0] if resumed is None else resumed, now),
                 energy_today(grid, kwh, marks), resumed)


def resumable(state: object, node_ids: list[str], day: int, now: float) -> int | None:
    """The last bucket a browser says it drew, when its chart can be patched (else None: redraw).

    The state comes from the browser: only a bucket of today's grid, no later than now's, for the
    same nodes in the same order, is taken.
    """
    if not isinstance(state, dict) or state.get("nodes") != node_ids or state.get("day") != day:
        return None
    last = state.get("last")
    if not isinstance(last, int) or isinstance(last, bool) or (last - day) % BUCKET_S:
        return None
    return last if day <= last <= math.floor(now) // BUCKET_S * BUCKET_S else None


def day_marks(tz: str, now: float) -> list[int]:
    """Epoch seconds of each local hour of today, and the next midnight."""
    day = today(tz, now)
    return boundaries(day, day + timedelta(days=1), "hour", tz)


def quarters_today(store: TimeseriesStore, node_ids: Sequence[str], marks: list[int],
                   now: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Quarter starts from midnight to the current quarter, and each node's kWh in them."""
    grid = np.arange(marks[0], (math.floor(now) // BUCKET_S + 1) * BUCKET_S, BUCKET_S, dtype=np.int64)
    kwh = {node: np.zeros(grid.size) for node in node_ids}
    if node_ids and grid.size:
        frame = store.energy(list(node_ids), [*grid.tolist(), int(grid[-1]) + BUCKET_S])
        where = np.searchsorted(grid, frame["period_start"].to_numpy(np.int64))
        for node, index, value in zip(frame["node_id"], where, frame["energy_kwh"].to_numpy(np.float64),
                                      strict=True):
            if node in kwh and 0 <= index < grid.size:
                kwh[node][index] += value
    return grid, kwh


def power_today(grid: np.ndarray, kwh: dict[str, np.ndarray], since: int, now: float) -> PowerToday:
    """Mean W per quarter from `since` on: a quarter's kWh over its length, the current one's so far.

    A quarter without energy is 0 W: the rollups do not tell "used nothing" from "sent nothing".
    """
    keep = grid >= since
    ts = grid[keep]
    seconds = np.maximum(np.minimum(ts + BUCKET_S, now) - ts, 1.0)
    nodes = {node: np.round(values[keep] * 3.6e6 / seconds, 1) for node, values in kwh.items()}
    total = np.round(np.sum(list(nodes.values()), axis=0), 1) if nodes else np.zeros(ts.size)
    return PowerToday(ts, nodes, total)


def energy_today(grid: np.ndarray, kwh: dict[str, np.ndarray], marks: list[int]) -> EnergyToday:
    """kWh per local hour of today, all nodes together (hours still to come are 0)."""
    total = np.sum(list(kwh.values()), axis=0) if kwh else np.zeros(grid.size)
    hour = np.searchsorted(np.asarray(marks), grid, side="right") - 1
    per_hour = np.zeros(len(marks) - 1)
    np.add.at(per_hour, hour, total)
    return EnergyToday(marks, np.round(per_hour, 4))
