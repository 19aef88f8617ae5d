"""`enertrack node`: add, list and remove measurement nodes, and their broker credentials."""

from __future__ import annotations

import sys

import click

from enertrack.cli.broker import echo_credentials, node_credentials
from enertrack.cli.common import fail, owner_id, sessions, settings_or_exit


@click.group()
def node() -> None:
    """Measurement nodes."""


@node.command("add")
@click.option("--user", "username", required=True, help="Owner's username.")
@click.option("--id", "node_id", required=True, help="The device's MQTT identity: 1-64 of [A-Za-z0-9_-].")
@click.option("--description", default="", help="Up to 200 characters.")
@click.option("--location", default="", help="Up to 120 characters.")
@click.option("--interval", "interval_s", default="10", show_default=True, help="Reporting interval in seconds.")
@click.option("--max-power", "max_power_w", default=None,
              help="Glitch bound in W for the energy rules [default: 30000, docs/energy.md].")
def node_add(username: str, node_id: str, description: str, location: str, interval_s: str,
             max_power_w: str | None) -> None:
    """Register a node for a user and (with provisioning on) print its broker password once."""
    from enertrack.broker import BrokerError, make_provisioner
    from enertrack.i18n import tr
    from enertrack.store.factory import open_store
    from enertrack.validation import MESSAGES
    from enertrack.web.services import nodes

    settings = settings_or_exit()
    fields = {"node_id": node_id, "description": description, "location": location, "interval_s": interval_s,
              "max_power_w": max_power_w}
    provisioner = make_provisioner(settings)
    store = open_store(settings)
    try:
        with sessions(settings).begin() as db:
            added = nodes.add_node(db, owner_id(db, username), fields, store, provisioner,
                                   quota=settings.quota_nodes)
    except nodes.NodeError as exc:
        for name, code in exc.errors.items():
            click.echo(f"error: {name}: {tr('en', MESSAGES.get(code, code))}", err=True)
        sys.exit(2)
    except BrokerError as exc:
        fail(f"the node's broker account could not be created, nothing was added: {exc}", code=1)
    finally:
        store.close()
    click.echo(f"node {node_id} added for {username}")
    if added.credentials is not None:
        echo_credentials(added.credentials.username, added.credentials.password)
    else:
        click.echo("broker credentials: issued by the broker's operator (ENERTRACK_BROKER_PROVISIONING=off)")


@node.command("list")
@click.option("--user", "username", default=None, help="Only this user's nodes.")
def node_list(username: str | None) -> None:
    """List nodes as tab-separated lines: node_id, owner, interval, description, location."""
    from sqlalchemy import select

    from enertrack.models import Node, User

    settings = settings_or_exit()
    with sessions(settings)() as db:
        query = select(Node, User.username).join(User).order_by(User.username, Node.node_id)
        if username is not None:
            query = query.where(Node.owner_id == owner_id(db, username))
        for found, owner in db.execute(query):
            click.echo(f"{found.node_id}\t{owner}\t{found.interval_s}\t{found.description}\t{found.location}")


@node.command("remove")
@click.option("--user", "username", required=True, help="Owner's username.")
@click.option("--id", "node_id", required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def node_remove(username: str, node_id: str, yes: bool) -> None:
    """Delete a node and all its readings, and revoke its broker account."""
    from enertrack.broker import BrokerError, make_provisioner
    from enertrack.store import StoreUnavailable
    from enertrack.store.factory import open_store
    from enertrack.web.services import nodes

    settings = settings_or_exit()
    if not yes:
        click.confirm(f"Delete node {node_id} and all its readings?", abort=True)
    provisioner = make_provisioner(settings)
    store = open_store(settings)
    try:
        with sessions(settings).begin() as db:
            deleted = nodes.remove_node(db, store, owner_id(db, username), node_id, provisioner)
    except nodes.NodeNotFound:
        fail(f"{username} has no node {node_id!r} (see `enertrack node list --user {username}`)")
    except BrokerError as exc:
        fail(f"the node's broker account could not be revoked, nothing was removed: {exc}", code=1)
    except StoreUnavailable as exc:
        fail(f"the readings could not be deleted, the node was not removed (its broker account, if any, is "
             f"revoked already): run the command again. {exc}")
    finally:
        store.close()
    click.echo(f"node {node_id} removed with {deleted} readings")


node.add_command(node_credentials)
