"""`enertrack serve` (the web app under gunicorn) and `enertrack db upgrade` (the schema)."""

from __future__ import annotations

import click

from enertrack.cli.common import fail, settings_or_exit


@click.command()
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


@click.group()
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
