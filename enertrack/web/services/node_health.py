"""A node's latest device-health report, as the ingest daemon kept it (docs/payload.md#device-health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.models import NodeHealth
from enertrack.web.services.nodes import owned


@dataclass(frozen=True, slots=True)
class HealthView:
    """What the node page shows; None where the node never reported a value."""

    reported_at: int  # epoch second the last message carrying any of them arrived
    fw: str | None
    rssi: int | None
    uptime_s: int | None
    dropped: int | None
    buffered: int | None


def node_health(session: Session, user_id: int, node_id: Any) -> HealthView | None:
    """The user's node's latest health (None: never reported); NodeNotFound for anyone else's node."""
    node = owned(session, user_id, node_id)
    row = session.scalar(select(NodeHealth).where(NodeHealth.node_pk == node.id))
    if row is None:
        return None
    return HealthView(int(row.reported_at.replace(tzinfo=UTC).timestamp()), row.fw, row.rssi, row.uptime_s,
                      row.dropped, row.buffered)
