"""Node management for one user at a time: every function takes the owner explicitly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enertrack import validation
from enertrack.models import DEFAULT_INTERVAL_S, Node, RejectedMessage
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.sites import ensure_site


class NodeError(ValueError):
    """Field -> error code problems with a node form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


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


def view(node: Node) -> NodeView:
    """Detach a node into a NodeView."""
    return NodeView(node.node_id, node.description, node.location, node.interval_s, node.max_power_w)


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


def form_errors(session: Session, fields: Mapping[str, Any], *, new: bool) -> dict[str, str]:
    """Field -> error code for a node form, including the duplicate-id check for new nodes."""
    errors = validation.node_field_errors(dict(fields), check_id=new)
    if new and "node_id" not in errors and node_id_taken(session, fields.get("node_id")):
        errors["node_id"] = "node_id_taken"
    return errors


def forget_node_data(session: Session, store: TimeseriesStore | None, node_id: str) -> int:
    """Delete every reading and dead letter ever stored under node_id; returns the readings deleted.

    Node ids are unique only among existing nodes: what a device sent under an id before (a
    deleted node's late readings, messages refused as unknown) must never reach the next owner.
    """
    session.execute(delete(RejectedMessage).where(RejectedMessage.node_id == node_id))
    return store.delete_node(node_id) if store is not None else 0


def create_node(session: Session, user_id: int, fields: Mapping[str, Any],
                store: TimeseriesStore | None = None, *, quota: int | None = None) -> NodeView:
    """Add a node for the user, with no data from any earlier use of its id (the caller commits).

    quota: how many nodes the user may have (ENERTRACK_QUOTA_NODES); None: no limit.
    """
    if quota is not None and len(list_nodes(session, user_id)) >= quota:
        raise NodeError({"node_id": "node_quota"})
    errors = form_errors(session, fields, new=True)
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
