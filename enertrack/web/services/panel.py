"""The panel's data for one user: live KPIs over their active nodes and each node's status."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.core.calendar import day_start, today
from enertrack.core.energy import QUARTER_S
from enertrack.core.magnitudes import MAGNITUDES
from enertrack.core.reading import Reading
from enertrack.core.status import NodeStatus, node_status
from enertrack.models import Node
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.sites import site_node_ids

KPI_NAMES: tuple[str, ...] = tuple(m.name for m in MAGNITUDES if m.kpi)


@dataclass(frozen=True, slots=True)
class NodeLive:
    """One node's row on the panel."""

    node_id: str
    description: str
    status: NodeStatus
    last_ts: int | None
    power: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the panel shows."""

    nodes: list[NodeLive]
    kpis: dict[str, float | None]  # mean over active nodes, by magnitude
    total_power: float | None  # sum over active nodes
    energy_today: float
    updated_ts: int | None  # newest reading among active nodes
    now: float


def average_kpis(readings: Iterable[Reading]) -> dict[str, float | None]:
    """Mean of each KPI magnitude over the readings that carry it."""
    sums = {name: [0.0, 0] for name in KPI_NAMES}
    for reading in readings:
        for name in KPI_NAMES:
            value = getattr(reading, name)
            if value is not None and math.isfinite(value):
                sums[name][0] += value
                sums[name][1] += 1
    return {name: (total / count if count else None) for name, (total, count) in sums.items()}


def total_power(readings: Iterable[Reading]) -> float | None:
    """Sum of the power of the readings that carry it, or None when none does."""
    values = [r.power for r in readings if r.power is not None]
    return sum(values) if values else None


def _epoch(moment: object) -> int | None:
    from datetime import UTC, datetime

    if not isinstance(moment, datetime):
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def overview(db: Session, store: TimeseriesStore, user_id: int, tz: str, now: float, site: object = None) -> Overview:
    """The panel for user_id at `now` (epoch seconds), over the nodes of one of their sites when given.

    SiteNotFound for a site that is not theirs.
    """
    rows: Sequence[Node] = db.scalars(select(Node).where(Node.owner_id == user_id).order_by(Node.node_id)).all()
    if site not in (None, "", "all"):
        members = set(site_node_ids(db, user_id, site))
        rows = [n for n in rows if n.node_id in members]
    ids = [n.node_id for n in rows]
    latest = store.latest(ids) if ids else {}
    live: list[NodeLive] = []
    active: list[Reading] = []
    for node in rows:
        reading = latest.get(node.node_id)
        offline_at = _epoch(node.last_status_at) if node.last_status == "offline" else None
        status = node_status(now, reading.ts if reading else None, node.interval_s, offline_at)
        if status is NodeStatus.ACTIVE and reading is not None:
            active.append(reading)
        live.append(NodeLive(node.node_id, node.description, status, reading.ts if reading else None,
                             reading.power if reading else None))
    energy_today = 0.0
    if ids:
        start = day_start(today(tz, now), ZoneInfo(tz))
        end = max(start + QUARTER_S, math.ceil(now / QUARTER_S) * QUARTER_S)
        frame = store.energy(ids, [start, end])
        energy_today = float(frame["energy_kwh"].sum()) if not frame.empty else 0.0
    return Overview(
        nodes=live,
        kpis=average_kpis(active),
        total_power=total_power(active),
        energy_today=energy_today,
        updated_ts=max((r.ts for r in active), default=None),
        now=now,
    )
