"""Today on the panel: power through the day (total and per node) and energy by local hour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.core.calendar import boundaries, today
from enertrack.models import Node
from enertrack.store.base import TimeseriesStore

BUCKET_S = 300  # five minutes: 288 points per node for a whole day


@dataclass(frozen=True, slots=True)
class PowerToday:
    """Mean power per five-minute bucket since `start`, per node and in total."""

    ts: np.ndarray  # bucket starts, epoch seconds, every bucket from the first to the current one
    nodes: dict[str, np.ndarray]  # W per bucket, NaN where the node sent no power
    total: np.ndarray  # the sum over the nodes that have a value, NaN where none has


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
    return Today(node_ids, marks, power_today(store, node_ids, marks[0] if resumed is None else resumed, now),
                 energy_today(store, node_ids, marks, now), resumed)


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


def power_today(store: TimeseriesStore, node_ids: Sequence[str], start: int, now: float) -> PowerToday:
    """Five-minute power buckets in [start, now] (start: today's midnight, or the last bucket drawn)."""
    first = start // BUCKET_S * BUCKET_S
    end = (math.floor(now) // BUCKET_S + 1) * BUCKET_S
    grid = np.arange(first, end, BUCKET_S, dtype=np.int64)
    nodes: dict[str, np.ndarray] = {}
    for node in node_ids:
        frame = store.series(node, "power", first, end, max(len(grid), 1))
        values = np.full(grid.size, np.nan)
        if not frame.empty:
            buckets = frame.groupby(frame["ts"].to_numpy(np.int64) // BUCKET_S * BUCKET_S)["mean"].mean()
            where = np.searchsorted(grid, buckets.index.to_numpy(np.int64))
            inside = (where < grid.size) & (grid[np.minimum(where, grid.size - 1)] == buckets.index.to_numpy())
            values[where[inside]] = buckets.to_numpy(np.float64)[inside]
        nodes[node] = np.round(values, 1)
    stacked = np.vstack(list(nodes.values())) if nodes else np.full((1, grid.size), np.nan)
    present = ~np.isnan(stacked)
    total = np.where(present.any(axis=0), np.nansum(stacked, axis=0), np.nan)
    return PowerToday(grid, nodes, np.round(total, 1))


def energy_today(store: TimeseriesStore, node_ids: Sequence[str], marks: list[int], now: float) -> EnergyToday:
    """kWh per local hour of today, all nodes together; hours still to come are 0."""
    kwh = np.zeros(len(marks) - 1)
    past = [m for m in marks if m <= now]
    if node_ids and past:
        upto = len(past) + 1 if len(past) < len(marks) else len(marks)
        frame = store.energy(list(node_ids), marks[:upto])
        if not frame.empty:
            per_hour = frame.groupby("period_start")["energy_kwh"].sum()
            index = pd.Index(marks[:-1]).get_indexer(per_hour.index)
            kwh[index[index >= 0]] = per_hour.to_numpy(np.float64)[index >= 0]
    return EnergyToday(marks, np.round(kwh, 4))
