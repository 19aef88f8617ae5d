"""`enertrack broker` and `enertrack node credentials`: the nodes' broker accounts (docs/operations.md)."""

from __future__ import annotations

import click

from enertrack.cli.common import fail, sessions, settings_or_exit


def echo_credentials(username: str, password: str) -> None:
    """Print a node's new broker password once, with what to do with it."""
    click.echo(f"broker username: {username}")
    click.echo(f"broker password: {password}")
    click.echo("  (shown only now: put it on the device; `enertrack node credentials "
               f"{username} --regenerate` issues a new one)")


@click.group()
def broker() -> None:
    """The MQTT broker's accounts for nodes (ENERTRACK_BROKER_PROVISIONING=dynsec)."""


@broker.command("sync")
@click.option("--all", "issue_missing", is_flag=True,
              help="Also issue credentials for nodes that have none on the broker, and print them.")
def broker_sync(issue_missing: bool) -> None:
    """Make the broker match the nodes database: roles, the ingest account, no stale node accounts."""
    from enertrack.broker import BrokerError, make_provisioner
    from enertrack.web.services import nodes

    settings = settings_or_exit()
    try:
        with sessions(settings).begin() as db:
            report = nodes.sync_broker(db, make_provisioner(settings), issue_missing=issue_missing)
    except BrokerError as exc:
        fail(f"{exc}; the broker may be partly synced: run the command again once it is reachable", code=1)
    for username in report.removed_clients:
        click.echo(f"removed the account of {username} (no such node)")
    for role in report.removed_roles:
        click.echo(f"removed role {role} (no such node)")
    for role in report.fixed_roles:
        click.echo(f"set the ACL of role {role}")
    for node_id, password in report.issued.items():
        click.echo(f"node {node_id}:")
        echo_credentials(node_id, password)
    if report.needs_credentials:
        click.echo(f"{len(report.needs_credentials)} node(s) have no credentials from EnerTrack on the broker: "
                   + ", ".join(report.needs_credentials)
                   + "\n  issue them with `enertrack broker sync --all` (or `enertrack node credentials ID "
                     "--regenerate`)", err=True)
    click.echo("broker in sync with the nodes database")


@click.command("credentials")
@click.argument("node_id")
@click.option("--regenerate", is_flag=True, help="Issue a new password; the old one stops working at once.")
def node_credentials(node_id: str, regenerate: bool) -> None:
    """Show whether NODE_ID has broker credentials from EnerTrack, or issue new ones."""
    from sqlalchemy import select

    from enertrack.broker import BrokerError, make_provisioner
    from enertrack.models import Node
    from enertrack.web.services import nodes

    settings = settings_or_exit()
    provisioner = make_provisioner(settings)
    try:
        with sessions(settings).begin() as db:
            found = db.scalar(select(Node).where(Node.node_id == node_id))
            if found is None:
                fail(f"there is no node {node_id!r} (see `enertrack node list`)")
            if not regenerate:
                issued = found.broker_credentials_at
                click.echo(f"broker username: {node_id}")
                click.echo(f"password issued by EnerTrack: {issued:%Y-%m-%d %H:%M:%S} UTC" if issued else
                           "password: none issued by EnerTrack" + ("" if provisioner.enabled else
                                                                   " (ENERTRACK_BROKER_PROVISIONING=off: the "
                                                                   "broker's operator issues it)"))
                return
            credentials = nodes.regenerate_credentials(db, found.owner_id, node_id, provisioner)
    except nodes.ProvisioningOff:
        fail("ENERTRACK_BROKER_PROVISIONING is off: the broker's operator issues node passwords "
             "(docs/operations.md)")
    except BrokerError as exc:
        fail(f"no new credentials, the old password still works: {exc}", code=1)
    echo_credentials(credentials.username, credentials.password)
