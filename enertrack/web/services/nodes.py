"""Node management for one user at a time: every function takes the owner explicitly."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enertrack import validation
from enertrack.broker import BrokerError as BrokerError  # pages catch it from here
from enertrack.broker import Provisioner, SyncReport
from enertrack.broker.names import RESERVED_ALWAYS, hash_password, is_reserved
from enertrack.models import DEFAULT_INTERVAL_S, Node, RejectedMessage, utcnow
from enertrack.quality.week import forget_reports
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.sites import ensure_site

log = logging.getLogger("enertrack.nodes")


class NodeError(validation.FormErrors):
    """Field -> error code problems with a node form."""


class NodeNotFound(LookupError):
    """No node with that id belongs to this user (whether or not it exists)."""


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node as the UI shows it: plain values, no ORM session attached."""

    node_id: str
    description: str
    location: str
    interval_s: int
    max_power_w: float | None = None  # the glitch bound, None for the default
    has_credentials: bool = False  # EnerTrack issued this node's broker password


@dataclass(frozen=True, slots=True)
class Credentials:
    """A node's broker account right after it was issued: the only time the password is known."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Added:
    """A new node, and its credentials when EnerTrack provisions the broker."""

    node: NodeView
    credentials: Credentials | None


def view(node: Node) -> NodeView:
    """Detach a node into a NodeView."""
    return NodeView(node.node_id, node.description, node.location, node.interval_s, node.max_power_w,
                    node.broker_password_hash is not None)


def list_nodes(session: Session, user_id: int) -> list[NodeView]:
    """The user's nodes, by node id."""
    rows = session.scalars(select(Node).where(Node.owner_id == user_id).order_by(Node.node_id))
    return [view(node) for node in rows]


def owned(session: Session, user_id: int, node_id: Any) -> Node:
    """The user's node with this id; NodeNotFound for anyone else's or a missing one."""
    if validation.node_id_error(node_id):
        raise NodeNotFound(str(node_id)[:64])
    node = session.scalar(
        select(Node).where(Node.node_id == validation.text(node_id), Node.owner_id == user_id)
    )
    if node is None:
        raise NodeNotFound(validation.text(node_id))
    return node


def owned_ids(session: Session, user_id: int, node_ids: Any) -> list[str]:
    """The subset of node_ids (untrusted) that belongs to the user, in the order given, each once."""
    if isinstance(node_ids, str):
        node_ids = [node_ids]
    if not isinstance(node_ids, list | tuple):
        return []
    mine = {n.node_id for n in list_nodes(session, user_id)}
    return list(dict.fromkeys(n for n in node_ids if isinstance(n, str) and n in mine))


def node_id_taken(session: Session, node_id: Any) -> bool:
    """True when any user already registered this node id (ids are unique installation-wide)."""
    return session.scalar(select(Node.id).where(Node.node_id == validation.text(node_id))) is not None


def form_errors(session: Session, fields: Mapping[str, Any], *, new: bool,
                reserved: Collection[str] = RESERVED_ALWAYS) -> dict[str, str]:
    """Field -> error code for a node form, with the duplicate-id and service-account checks for new nodes."""
    errors = validation.node_field_errors(dict(fields), check_id=new)
    if new and "node_id" not in errors:
        node_id = validation.text(fields.get("node_id"))
        if is_reserved(node_id, reserved):
            errors["node_id"] = "node_id_reserved"
        elif node_id_taken(session, node_id):
            errors["node_id"] = "node_id_taken"
    return errors


def forget_node_data(session: Session, store: TimeseriesStore | None, node_id: str) -> int:
    """Delete every reading and dead letter ever stored under node_id; returns the readings deleted.

    Node ids are unique only among existing nodes: what a device sent under an id before (a
    deleted node's late readings, messages refused as unknown) must never reach the next owner.
    """
    session.execute(delete(RejectedMessage).where(RejectedMessage.node_id == node_id))
    if store is None:
        return 0
    forget_reports(store, node_id)
    return store.delete_node(node_id)


def create_node(session: Session, user_id: int, fields: Mapping[str, Any],
                store: TimeseriesStore | None = None, *, reserved: Collection[str] = RESERVED_ALWAYS,
                quota: int | None = None) -> NodeView:
    """Add a node for the user, with no data from any earlier use of its id (the caller commits).

    quota: how many nodes the user may have (ENERTRACK_QUOTA_NODES); None: no limit.
    """
    if quota is not None and len(list_nodes(session, user_id)) >= quota:
        raise NodeError({"node_id": "node_quota"})
    errors = form_errors(session, fields, new=True, reserved=reserved)
    if errors:
        raise NodeError(errors)
    node = Node(
        node_id=validation.text(fields.get("node_id")),
        owner_id=user_id,
        description=validation.text(fields.get("description")),
        location=validation.text(fields.get("location")),
        interval_s=validation.parse_interval(fields.get("interval_s")) or DEFAULT_INTERVAL_S,
        max_power_w=validation.parse_max_power(fields.get("max_power_w"))[0],
        site_id=ensure_site(session, user_id).id,  # a new node joins the user's first site
    )
    forget_node_data(session, store, node.node_id)
    session.add(node)
    try:
        session.flush()
    except IntegrityError:  # another request registered the same id a moment ago
        session.rollback()
        raise NodeError({"node_id": "node_id_taken"}) from None
    return view(node)


def update_node(session: Session, user_id: int, node_id: Any, fields: Mapping[str, Any]) -> NodeView:
    """Change description, location and interval of the user's node (the id is the device's identity)."""
    node = owned(session, user_id, node_id)
    errors = form_errors(session, fields, new=False)
    if errors:
        raise NodeError(errors)
    node.description = validation.text(fields.get("description"))
    node.location = validation.text(fields.get("location"))
    node.interval_s = validation.parse_interval(fields.get("interval_s")) or node.interval_s
    node.max_power_w = validation.parse_max_power(fields.get("max_power_w"))[0]
    session.flush()
    return view(node)


def delete_node(session: Session, store: TimeseriesStore | None, user_id: int, node_id: Any) -> int:
    """Delete the user's node, its readings and its dead letters; returns how many readings went."""
    node = owned(session, user_id, node_id)
    deleted = forget_node_data(session, store, node.node_id)
    session.delete(node)
    session.flush()
    return deleted


def node_rejections(session: Session, user_id: int, node_id: Any, limit: int) -> list[RejectedMessage]:
    """The newest messages the ingest daemon rejected from the user's node, newest first."""
    mine = owned(session, user_id, node_id).node_id
    query = (select(RejectedMessage).where(RejectedMessage.node_id == mine)
             .order_by(RejectedMessage.id.desc()).limit(limit))
    return list(session.scalars(query))


def _record_password(node: Node, password: str | None) -> Credentials | None:
    """Keep only the hash of a just-issued password; the Credentials to show once."""
    if password is None:
        return None
    node.broker_password_hash = hash_password(password)
    node.broker_credentials_at = utcnow()
    return Credentials(node.node_id, password)


def add_node(session: Session, user_id: int, fields: Mapping[str, Any], store: TimeseriesStore | None,
             provisioner: Provisioner, *, quota: int | None = None) -> Added:
    """create_node, then the node's broker account: a broker failure raises and the caller's rollback undoes all.

    The broker call comes last, so nothing reaches the broker for a node the database refused; if the
    transaction rolls back afterwards (a failing commit), the account is revoked again.
    """
    created = create_node(session, user_id, fields, store, reserved=provisioner.reserved, quota=quota)
    node = owned(session, user_id, created.node_id)
    credentials = _record_password(node, provisioner.issue(node.node_id))
    if credentials is not None:
        _revoke_unless_committed(session, provisioner, node.node_id)
    session.flush()
    return Added(view(node), credentials)


def _revoke_unless_committed(session: Session, provisioner: Provisioner, node_id: str) -> None:
    """If the transaction that added node_id rolls back (a failing commit, a later error), revoke its account."""

    def rolled_back(_session: Session) -> None:
        event.remove(session, "after_commit", committed)
        try:
            provisioner.revoke(node_id)
        except BrokerError as exc:  # the broker went away meanwhile: `enertrack broker sync` removes it
            log.warning("node %s was not added, and its broker account could not be revoked: %s", node_id, exc)

    def committed(_session: Session) -> None:
        event.remove(session, "after_rollback", rolled_back)

    event.listen(session, "after_rollback", rolled_back, once=True)
    event.listen(session, "after_commit", committed, once=True)


def regenerate_credentials(session: Session, user_id: int, node_id: Any, provisioner: Provisioner) -> Credentials:
    """A new broker password for the user's node; the old one stops working and its device is disconnected."""
    node = owned(session, user_id, node_id)
    if not provisioner.enabled:
        raise ProvisioningOff()
    credentials = _record_password(node, provisioner.issue(node.node_id))
    assert credentials is not None  # an enabled provisioner always issues a password
    session.flush()
    return credentials


def remove_node(session: Session, store: TimeseriesStore | None, user_id: int, node_id: Any,
                provisioner: Provisioner) -> int:
    """Revoke the node's broker account first (a broker failure changes nothing), then delete_node."""
    node = owned(session, user_id, node_id)
    provisioner.revoke(node.node_id)  # idempotent: a retry after a later failure converges
    return delete_node(session, store, user_id, node.node_id)


class ProvisioningOff(RuntimeError):
    """EnerTrack does not issue broker credentials here (ENERTRACK_BROKER_PROVISIONING=off)."""


def sync_broker(session: Session, provisioner: Provisioner, *, issue_missing: bool) -> SyncReport:
    """Make the broker match every node in the database; keep the hashes of passwords it issued."""
    found = {n.node_id: n for n in session.scalars(select(Node))}
    report = provisioner.sync({k: n.broker_password_hash is not None for k, n in found.items()},
                              issue_missing=issue_missing)
    for node_id, password in report.issued.items():
        _record_password(found[node_id], password)
    session.flush()
    return report
