"""`enertrack ingest`: run the daemon; `errors`: print the dead-letter list; `health`: is it connected?"""

from __future__ import annotations

import sys

import click


@click.group(invoke_without_command=True)
@click.pass_context
def ingest(ctx: click.Context) -> None:
    """Run the MQTT ingest daemon (or a subcommand)."""
    if ctx.invoked_subcommand is None:
        from enertrack.ingest.daemon import main

        sys.exit(main())


@ingest.command("errors")
@click.option("--node", "node_id", default=None, help="Only this node's rejected messages.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="How many, newest first.")
def errors(node_id: str | None, limit: int) -> None:
    """Print the newest rejected messages: when, node, reason, what to do, payload excerpt."""
    from sqlalchemy.exc import SQLAlchemyError

    from enertrack.cli.common import fail, settings_or_exit
    from enertrack.db import make_engine, make_session_factory
    from enertrack.ingest.payload import printable
    from enertrack.ingest.users_db import recent_rejections

    engine = make_engine(settings_or_exit().sqlalchemy_url)
    try:
        rows = recent_rejections(make_session_factory(engine), node_id, limit)
    except SQLAlchemyError as exc:
        fail(f"cannot read the dead-letter list ({exc.__class__.__name__}); "
             "is the database reachable and migrated (`enertrack db upgrade`)?")
    finally:
        engine.dispose()
    if not rows:
        click.echo("no rejected messages" + (f" for node {node_id}" if node_id else ""))
        return
    for row in rows:
        # Everything here came from the network: escape control characters before a terminal sees them.
        node = printable(row.node_id or "-", 70)
        click.echo(f"{row.received_at:%Y-%m-%dT%H:%M:%SZ}  {node}  {printable(row.reason, 40)}  {printable(row.topic)}")
        click.echo(f"    {printable(row.message, 400)}")
        click.echo(f"    payload: {printable(row.excerpt)}")


@ingest.command("health")
def health() -> None:
    """Exit 0 when a connection to the broker (DOMINIO:PUERTO_MQTTS) is established: the container health check."""
    from enertrack.cli.common import settings_or_exit
    from enertrack.ingest.health import established_to, read_tables

    port = settings_or_exit().mqtt_port
    if established_to(port, read_tables()):
        click.echo(f"connected to the broker on port {port}")
        return
    click.echo(f"not connected to the broker on port {port}: see the daemon's log", err=True)
    sys.exit(1)
