"""Deleting an account and everything it owns, in one place. No Flask here.

Each feature that stores something for a user registers a clean-up here (readings are the
first; broker credentials, alert rules and webhooks register theirs when they arrive), so
deleting an account can never forget one. The web form and `enertrack user delete` both call
delete_account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.config import Settings
from enertrack.models import Node, User
from enertrack.store.base import TimeseriesStore


@dataclass(frozen=True, slots=True)
class Doomed:
    """What a clean-up needs: the open transaction, the store, the settings, whose account, their nodes."""

    db: Session
    store: TimeseriesStore | None
    settings: Settings | None
    user_id: int
    node_ids: tuple[str, ...]


Cleanup = Callable[[Doomed], None]

# Filled at import time by the modules that own data (register_cleanup), read-only afterwards.
_CLEANUPS: dict[str, Cleanup] = {}


def register_cleanup(name: str, cleanup: Cleanup) -> Cleanup:
    """Run cleanup(doomed) whenever an account is deleted, before its rows go; name must be unique."""
    if name in _CLEANUPS and _CLEANUPS[name] is not cleanup:
        raise ValueError(f"a clean-up called {name!r} is already registered")
    _CLEANUPS[name] = cleanup
    return cleanup


def cleanups() -> tuple[str, ...]:
    """The names of the registered clean-ups, in the order they run."""
    return tuple(_CLEANUPS)


def delete_account(db: Session, user_id: int, *, store: TimeseriesStore | None,
                   settings: Settings | None = None) -> tuple[str, ...]:
    """Delete the user, their nodes and everything registered clean-ups own; returns the node ids.

    The caller commits. A clean-up that fails raises, and the caller's rollback keeps the account.
    """
    user = db.get(User, user_id)
    if user is None:
        return ()
    node_ids = tuple(db.scalars(select(Node.node_id).where(Node.owner_id == user_id).order_by(Node.node_id)))
    doomed = Doomed(db, store, settings, user_id, node_ids)
    for cleanup in _CLEANUPS.values():
        cleanup(doomed)
    db.delete(user)  # nodes and login sessions go with it (ON DELETE CASCADE)
    db.flush()
    return node_ids


def _readings(doomed: Doomed) -> None:
    """Every reading and dead letter of the user's nodes."""
    from enertrack.web.services.nodes import forget_node_data

    for node_id in doomed.node_ids:
        forget_node_data(doomed.db, doomed.store, node_id)


register_cleanup("readings", _readings)
