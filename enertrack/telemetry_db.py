"""What the ingest daemon reads and writes in the users-and-nodes database.

The node directory (which nodes exist, their reporting interval), node status
announcements, and the bounded dead-letter list of rejected messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from enertrack.db import transaction
from enertrack.energy import DEFAULT_MAX_POWER_W, EnergyParams
from enertrack.models import REJECTED_KEEP, REJECTED_TEXT_MAX, Node, RejectedMessage
from enertrack.telemetry.batcher import DeadLetter
from enertrack.telemetry.payload import StatusUpdate

MESSAGE_MAX = 400


def schema_ready(engine: Engine) -> bool:
    """True when migration 0002 (node status, dead letters) has been applied."""
    inspector = inspect(engine)
    if "rejected_messages" not in inspector.get_table_names():
        return False
    return "last_status" in {c["name"] for c in inspector.get_columns("nodes")}


def load_node_params(factory: sessionmaker[Session]) -> dict[str, EnergyParams]:
    """Every registered node id and the energy rules' parameters for it."""
    with factory() as session:
        rows = session.execute(select(Node.node_id, Node.interval_s, Node.max_power_w)).all()
    return {node_id: EnergyParams(interval_s=interval, max_power_w=bound or DEFAULT_MAX_POWER_W)
            for node_id, interval, bound in rows}


def _naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _apply_status(session: Session, update: StatusUpdate) -> None:
    node = session.scalars(select(Node).where(Node.node_id == update.node_id)).one_or_none()
    if node is None:
        return  # deleted since the batch was decoded
    # A retained status is redelivered on every subscription: if it says nothing new,
    # it must not move the time of the announcement.
    if update.retained and node.last_status == update.status:
        return
    node.last_status = update.status
    node.last_status_at = _naive_utc(update.received_at)


def record(
    factory: sessionmaker[Session],
    dead_letters: Sequence[DeadLetter],
    statuses: Sequence[StatusUpdate],
    keep: int = REJECTED_KEEP,
) -> None:
    """Store dead letters (pruned to the newest keep) and status updates in one transaction."""
    if not dead_letters and not statuses:
        return
    with transaction(factory) as session:
        for letter in dead_letters:
            r = letter.rejection
            session.add(RejectedMessage(
                received_at=_naive_utc(letter.received_at),
                node_id=r.node_id,
                topic=letter.topic[:REJECTED_TEXT_MAX],
                reason=r.reason.value,
                message=r.message[:MESSAGE_MAX],
                excerpt=r.excerpt[:REJECTED_TEXT_MAX],
            ))
        for update in statuses:
            _apply_status(session, update)
        if dead_letters:
            session.flush()
            # Two statements, not a subquery: MariaDB refuses a DELETE that selects from its own table.
            oldest_kept = session.scalar(
                select(RejectedMessage.id).order_by(RejectedMessage.id.desc()).offset(keep - 1).limit(1)
            )
            if oldest_kept is not None:
                session.execute(delete(RejectedMessage).where(RejectedMessage.id < oldest_kept))


def recent_rejections(
    factory: sessionmaker[Session], node_id: str | None = None, limit: int = 50
) -> list[RejectedMessage]:
    """The newest dead letters, newest first, optionally of one node."""
    query = select(RejectedMessage).order_by(RejectedMessage.id.desc()).limit(limit)
    if node_id is not None:
        query = query.where(RejectedMessage.node_id == node_id)
    with factory() as session:
        return list(session.scalars(query))
