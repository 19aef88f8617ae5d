"""`enertrack serve` (the web app under gunicorn: one worker with threads unless told otherwise) and `enertrack db`."""

from __future__ import annotations

import click

from enertrack.cli.common import fail, settings_or_exit
from enertrack.cli.db_copy import db_copy


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: ENERTRACK_HOST or 0.0.0.0].")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port [default: ENERTRACK_PORT or 8006].")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="gunicorn worker processes [default: ENERTRACK_WEB_WORKERS or 1]; more than one needs "
                   "RATELIMIT_STORAGE_URI=redis://...")
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help="Threads per worker [default: ENERTRACK_WEB_THREADS or 8].")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request.")
def serve(host: str | None, port: int | None, workers: int | None, threads: int | None, access_log: bool) -> None:
    """Serve the web app with gunicorn (production: needs FLASK_SECRET_KEY)."""
    from enertrack.checkout import require_checkout
    from enertrack.web.server import run_gunicorn

    settings = settings_or_exit(check=True)
    workers = workers or settings.web_workers
    # Before gunicorn starts: two workers with memory:// counters let through twice every login limit.
    if problems := settings.web_problems(workers):
        fail(problems[0])
    require_checkout()  # here, not in each gunicorn worker where it would be a traceback
    run_gunicorn(settings, host=host or settings.host, port=port or settings.port, workers=workers,
                 threads=threads or settings.web_threads, extra=None if access_log else {"accesslog": None})


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


db.add_command(db_copy)
