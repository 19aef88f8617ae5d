"""The `enertrack` command: serve, demo, db, user, node, and the pipeline's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from enertrack.cli.common import EnerTrackGroup, fail, sessions, settings_or_exit
from enertrack.cli.export import export_energy
from enertrack.cli.export_readings import export_readings
from enertrack.cli.influx import influx
from enertrack.cli.ingest import ingest
from enertrack.cli.simulate import simulate


@click.group(cls=EnerTrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enertrack")
def main() -> None:
    """EnerTrack: energy monitoring for ESP32 smart meters."""


@main.group()
def db() -> None:
    """Database schema (users and nodes)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to reach.")
def db_upgrade(revision: str) -> None:
    """Create or migrate the users-and-nodes schema."""
    from enertrack.checkout import require_checkout
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = settings_or_exit()
    require_checkout()  # the migrations live in the checkout: say so, not "could not migrate"
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine, revision)
    except Exception as exc:  # noqa: BLE001 - show the database's own words, then exit non-zero
        fail(f"could not migrate the database: {exc}")
    finally:
        engine.dispose()
    click.echo(f"database at revision {revision}")


@main.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.option("--username", required=True, help="3-32 letters, digits, '.', '-' or '_'.")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 12 characters (prompted when omitted).")
@click.option("--timezone", default=None, help="IANA timezone [default: ENERTRACK_DEFAULT_TIMEZONE].")
@click.option("--language", type=click.Choice(["es", "en"]), default="es", show_default=True)
def user_create(username: str, email: str, password: str, timezone: str | None, language: str) -> None:
    """Create a user account (for administration and scripts)."""
    from enertrack.web.services import accounts
    from enertrack.i18n import tr
    from enertrack.validation import MESSAGES

    settings = settings_or_exit()
    new = accounts.NewAccount(username, email, password, password, timezone or settings.default_timezone, language)
    try:
        with sessions(settings).begin() as db:
            accounts.create_user(db, new)
    except accounts.AccountError as exc:
        for name, code in exc.errors.items():
            click.echo(f"error: {name}: {tr('en', MESSAGES.get(code, code))}", err=True)
        sys.exit(2)
    click.echo(f"user {username} created")


@main.group()
def node() -> None:
    """Measurement nodes."""


def _owner_id(db: object, username: str) -> int:
    from enertrack.web.services.accounts import find_user

    found = find_user(db, username)  # type: ignore[arg-type]
    if found is None:
        fail(f"no user called {username!r}: create it first with `enertrack user create`")
    return found.id


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
    """Register a node for a user."""
    from enertrack.web.services import nodes
    from enertrack.i18n import tr
    from enertrack.validation import MESSAGES

    settings = settings_or_exit()
    fields = {"node_id": node_id, "description": description, "location": location, "interval_s": interval_s,
              "max_power_w": max_power_w}
    from enertrack.store.factory import open_store

    store = open_store(settings)
    try:
        with sessions(settings).begin() as db:
            nodes.create_node(db, _owner_id(db, username), fields, store)
    except nodes.NodeError as exc:
        for name, code in exc.errors.items():
            click.echo(f"error: {name}: {tr('en', MESSAGES.get(code, code))}", err=True)
        sys.exit(2)
    finally:
        store.close()
    click.echo(f"node {node_id} added for {username}")


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
            query = query.where(Node.owner_id == _owner_id(db, username))
        for found, owner in db.execute(query):
            click.echo(f"{found.node_id}\t{owner}\t{found.interval_s}\t{found.description}\t{found.location}")


@node.command("remove")
@click.option("--user", "username", required=True, help="Owner's username.")
@click.option("--id", "node_id", required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def node_remove(username: str, node_id: str, yes: bool) -> None:
    """Delete a node and all its readings."""
    from enertrack.web.services import nodes
    from enertrack.store import StoreUnavailable
    from enertrack.store.factory import open_store

    settings = settings_or_exit()
    if not yes:
        click.confirm(f"Delete node {node_id} and all its readings?", abort=True)
    store = open_store(settings)
    try:
        with sessions(settings).begin() as db:
            deleted = nodes.delete_node(db, store, _owner_id(db, username), node_id)
    except nodes.NodeNotFound:
        fail(f"{username} has no node {node_id!r} (see `enertrack node list --user {username}`)")
    except StoreUnavailable as exc:
        fail(f"the readings could not be deleted, nothing was removed: {exc}")
    finally:
        store.close()
    click.echo(f"node {node_id} removed with {deleted} readings")


@main.command()
@click.option("--host", default=None, help="Address to listen on [default: ENERTRACK_HOST or 0.0.0.0].")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port [default: ENERTRACK_PORT or 8006].")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request.")
def serve(host: str | None, port: int | None, workers: int, access_log: bool) -> None:
    """Serve the web app with gunicorn (production: needs FLASK_SECRET_KEY)."""
    from enertrack.checkout import require_checkout
    from enertrack.web.server import run_gunicorn

    settings = settings_or_exit(check=True)
    require_checkout()  # here, not in each gunicorn worker where it would be a traceback
    if workers > 1 and settings.ratelimit_storage_uri.startswith("memory://"):
        click.echo(f"warning: {workers} workers with RATELIMIT_STORAGE_URI=memory:// count login attempts per "
                   "worker: set it to a shared store such as redis://localhost:6379", err=True)
    run_gunicorn(settings, host=host or settings.host, port=port or settings.port, workers=workers,
                 extra=None if access_log else {"accesslog": None})


@main.command()
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="[default: ENERTRACK_PORT or 8006].")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data"), show_default=True,
              help="Where the demo keeps its SQLite files and broker; never ENERTRACK_DATA_DIR, ENERTRACK_TSDB_PATH "
                   "or a configured MariaDB/InfluxDB, which may hold production data.")
@click.option("--broker", type=click.Choice(["auto", "configured", "none"]), default="auto", show_default=True,
              help="auto: a private mosquitto, else an anonymous one on 127.0.0.1:1883, else none (never the "
                   "configured one); configured: the broker DOMINIO names, with the demo's own client id and "
                   "topics (<MQTT_TOPIC_PREFIX>-demo/...); none: no MQTT at all, the simulator writes straight "
                   "into the store.")
def demo(port: int | None, data_dir: Path, broker: str) -> None:
    """Start the demo (what `make run` does): web, ingest and simulated nodes, with a demo login."""
    from enertrack.checkout import require_checkout
    from enertrack.cli.demo import run_demo

    settings = settings_or_exit(ENERTRACK_ENV="development")
    require_checkout()  # before the demo creates its data directory or starts anything
    configured = "mqtt_host" in settings.model_fields_set  # DOMINIO set in the environment or .env
    sys.exit(run_demo(settings, port=port or settings.port, data_dir=data_dir, broker_choice=broker,
                      broker_configured=configured))


main.add_command(export_readings)
main.add_command(export_energy)
main.add_command(simulate)
main.add_command(ingest)
main.add_command(influx)


if __name__ == "__main__":  # pragma: no cover
    main()
