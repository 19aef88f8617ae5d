"""What the ingest daemon reads and writes in the users-and-nodes database.

The node directory (which nodes exist, their reporting interval), node status
announcements, each node's latest device-health report, and the dead-letter list of
rejected messages (bounded per node).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Engine, delete, inspect, or_, select, text
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from enertrack.core.energy import DEFAULT_MAX_POWER_W, EnergyParams
from enertrack.db import transaction
from enertrack.ingest.batcher import DeadLetter, HealthReport, merged
from enertrack.ingest.payload import Health, StatusUpdate
from enertrack.models import (
    REJECTED_KEEP_PER_NODE,
    REJECTED_KEEP_STRANGERS,
    REJECTED_TEXT_MAX,
    Node,
    NodeHealth,
    RejectedMessage,
)

HEALTH_FIELDS = tuple(f.name for f in fields(Health))
SideRecord = DeadLetter | StatusUpdate | HealthReport

MESSAGE_MAX = 400
# MySQL/MariaDB errors about the data itself (an emoji in a latin1 column, a value too long...):
# the same statement fails the same way every time, although some arrive as OperationalError.
MYSQL_DATA_ERRORS = frozenset({1048, 1264, 1265, 1292, 1300, 1366, 1367, 1406})


def script_revisions() -> tuple[str, frozenset[str]]:
    """The migrations' head revision and every revision they know.

    Imports Alembic (and Mako), about 10 MB the daemon would keep for nothing: it calls this
    in a short-lived child process (ingest.computed_apart).
    """
    from alembic.script import ScriptDirectory

    from enertrack.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return str(script.get_current_head()), frozenset(r.revision for r in script.walk_revisions())


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database's alembic_version table (None: never migrated)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def schema_problem(current: str | None, head: str, known: frozenset[str]) -> str | None:
    """None when the users database is at the newest migration (Alembic's head); else what to do.

    The daemon reads and writes columns of every migration (nodes.max_power_w is 0003's), so
    anything but the head revision would fail later, and forever, in the middle of a batch.
    """
    if current == head:
        return None
    if current is None:
        return "the users database has no EnerTrack tables yet: run `enertrack db upgrade`"
    if current not in known:
        return (f"the users database is at revision {current}, which this EnerTrack does not know "
                f"(its newest is {head}): a newer EnerTrack migrated it; run that version")
    return (f"the users database is at revision {current} but this EnerTrack needs {head}: "
            "run `enertrack db upgrade`")


def is_transient(error: BaseException) -> bool:
    """True for a users-database error worth retrying (gone, locked); False for a data error."""
    if isinstance(error, DataError | IntegrityError):
        return False
    if isinstance(error, OperationalError | InterfaceError):
        code = error.orig.args[0] if error.orig is not None and error.orig.args else None
        return code not in MYSQL_DATA_ERRORS
    return False


def bmp_only(text: str) -> str:
    """text with characters beyond the Basic Multilingual Plane (emoji...) escaped as \\Uxxxxxxxx.

    MySQL's utf8 (3-byte) columns refuse them, and a dead letter must never fail on its excerpt.
    """
    if text.isascii():
        return text
    return "".join(ch if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}" for ch in text)


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


def _apply_health(session: Session, reports: Mapping[str, HealthReport]) -> None:
    """Merge the batch's health reports into each node's row: one query for the whole batch."""
    found = session.execute(
        select(Node.id, Node.node_id, NodeHealth).outerjoin(NodeHealth, NodeHealth.node_pk == Node.id)
        .where(Node.node_id.in_(list(reports)))
    ).all()
    for pk, node_id, row in found:  # a node deleted since the batch was decoded is not found
        report = reports[node_id]
        if row is None:
            session.add(NodeHealth(node_pk=pk, reported_at=_naive_utc(report.received_at),
                                   **{name: getattr(report.health, name) for name in HEALTH_FIELDS}))
            continue
        stored = HealthReport(node_id, int(row.reported_at.replace(tzinfo=UTC).timestamp()),
                              Health(*(getattr(row, name) for name in HEALTH_FIELDS)))
        now = merged(stored, report)  # the batch arrived after what is stored
        row.reported_at = _naive_utc(now.received_at)
        for name in HEALTH_FIELDS:
            setattr(row, name, getattr(now.health, name))


@dataclass(frozen=True, slots=True)
class Keep:
    """How many dead letters to keep: the newest per registered node, and for unregistered ids together."""

    per_node: int = REJECTED_KEEP_PER_NODE
    strangers: int = REJECTED_KEEP_STRANGERS


def _prune(session: Session, where: ColumnElement[bool], keep: int) -> None:
    """Delete the dead letters matching where beyond the newest keep."""
    # Two statements, not a subquery: MariaDB refuses a DELETE that selects from its own table.
    oldest_kept = session.scalar(
        select(RejectedMessage.id).where(where).order_by(RejectedMessage.id.desc()).offset(keep - 1).limit(1)
    )
    if oldest_kept is not None:
        session.execute(delete(RejectedMessage).where(where, RejectedMessage.id < oldest_kept),
                        execution_options={"synchronize_session": False})


def _prune_touched(session: Session, dead_letters: Sequence[DeadLetter], keep: Keep) -> None:
    """Bound the history of every node the new dead letters came from, and the strangers' pool."""
    named = {letter.rejection.node_id for letter in dead_letters} - {None}
    registered = set(session.scalars(select(Node.node_id).where(Node.node_id.in_(named)))) if named else set()
    for node_id in sorted(registered):
        _prune(session, RejectedMessage.node_id == node_id, keep.per_node)
    if any(letter.rejection.node_id not in registered for letter in dead_letters):
        strangers = or_(RejectedMessage.node_id.is_(None), RejectedMessage.node_id.not_in(select(Node.node_id)))
        _prune(session, strangers, keep.strangers)


def record(
    factory: sessionmaker[Session],
    dead_letters: Sequence[DeadLetter],
    statuses: Sequence[StatusUpdate],
    keep: Keep = Keep(),
    health: Mapping[str, HealthReport] | None = None,
) -> None:
    """Store dead letters, status updates and health reports in one transaction.

    Each registered node keeps its newest keep.per_node dead letters; unregistered ids share keep.strangers.
    """
    if not dead_letters and not statuses and not health:
        return
    with transaction(factory) as session:
        if health:
            _apply_health(session, health)
        for letter in dead_letters:
            r = letter.rejection
            session.add(RejectedMessage(
                received_at=_naive_utc(letter.received_at),
                node_id=r.node_id,
                topic=bmp_only(letter.topic)[:REJECTED_TEXT_MAX],
                reason=r.reason.value,
                message=bmp_only(r.message)[:MESSAGE_MAX],
                excerpt=bmp_only(r.excerpt)[:REJECTED_TEXT_MAX],
            ))
        for update in statuses:
            _apply_status(session, update)
        if dead_letters:
            session.flush()
            _prune_touched(session, dead_letters, keep)


def record_each(
    factory: sessionmaker[Session],
    dead_letters: Sequence[DeadLetter],
    statuses: Sequence[StatusUpdate],
    keep: Keep = Keep(),
    health: Mapping[str, HealthReport] | None = None,
) -> list[tuple[SideRecord, SQLAlchemyError]]:
    """record() one item per transaction, so one the database refuses does not take the rest along.

    Returns the items that failed for good, with the error; a transient error is raised.
    """
    failed: list[tuple[SideRecord, SQLAlchemyError]] = []
    items: list[tuple[SideRecord, list[DeadLetter], list[StatusUpdate], dict[str, HealthReport]]] = [
        *((letter, [letter], [], {}) for letter in dead_letters),
        *((update, [], [update], {}) for update in statuses),
        *((report, [], [], {node: report}) for node, report in (health or {}).items()),
    ]
    for item, letters, updates, reports in items:
        try:
            record(factory, letters, updates, keep, reports)
        except SQLAlchemyError as exc:
            if is_transient(exc):
                raise
            failed.append((item, exc))
    return failed


def recent_rejections(
    factory: sessionmaker[Session], node_id: str | None = None, limit: int = 50
) -> list[RejectedMessage]:
    """The newest dead letters, newest first, optionally of one node."""
    query = select(RejectedMessage).order_by(RejectedMessage.id.desc()).limit(limit)
    if node_id is not None:
        query = query.where(RejectedMessage.node_id == node_id)
    with factory() as session:
        return list(session.scalars(query))
