"""Deleting an account and everything it owns, in one place. No Flask here.

Each feature that stores something for a user registers a clean-up here, so deleting an
account can never forget one. The web form and `enertrack user delete` both call
delete_account. What the database removes by itself (ON DELETE CASCADE from users, nodes,
sites and alert rules: sessions, reset links, sites and tariffs, node health, alert rules,
tracks, events, notification settings with the webhook and its secret, deliveries) needs no
clean-up; tests/integration/test_account_deletion.py proves it for every table that refers to a
user, read from the models' metadata. The clean-ups are for what lives outside those rows: the
nodes' broker accounts and the time-series store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from enertrack.broker import Provisioner
from enertrack.broker.names import is_reserved
from enertrack.config import Settings
from enertrack.models import Node, User
from enertrack.store.base import TimeseriesStore


@dataclass(frozen=True, slots=True)
class Doomed:
    """What a clean-up needs: the open transaction, the store, the broker, the settings, whose account, their nodes."""

    db: Session
    store: TimeseriesStore | None
    provisioner: Provisioner
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


def delete_account(db: Session, user_id: int, *, store: TimeseriesStore | None, provisioner: Provisioner,
                   settings: Settings | None = None) -> tuple[str, ...]:
    """Delete the user, their nodes and everything registered clean-ups own; returns the node ids.

    The caller commits. A clean-up that fails raises (BrokerError, StoreUnavailable, ...), and the
    caller's rollback keeps the account; every clean-up may run again, so a retry converges.
    """
    user = db.get(User, user_id)
    if user is None:
        return ()
    node_ids = tuple(db.scalars(select(Node.node_id).where(Node.owner_id == user_id).order_by(Node.node_id)))
    doomed = Doomed(db, store, provisioner, settings, user_id, node_ids)
    for cleanup in _CLEANUPS.values():
        cleanup(doomed)
    db.delete(user)  # everything else that refers to the user goes with it (ON DELETE CASCADE)
    db.flush()
    return node_ids


def _broker_accounts(doomed: Doomed) -> None:
    """Revoke every node's broker account, first: a broker that refuses changes nothing else."""
    # A node named like a service account (from before provisioning) never had an account of its
    # own: that name's account is the service's and stays. Revoking is idempotent, so a retry converges.
    doomed.provisioner.revoke_many([n for n in doomed.node_ids if not is_reserved(n, doomed.provisioner.reserved)])


def _readings(doomed: Doomed) -> None:
    """Every reading and dead letter of the user's nodes."""
    from enertrack.web.services.nodes import forget_node_data

    for node_id in doomed.node_ids:
        forget_node_data(doomed.db, doomed.store, node_id)


# Order matters: the broker before the store, whose deletions no rollback undoes.
register_cleanup("broker_accounts", _broker_accounts)
register_cleanup("readings", _readings)
