"""The `enertrack` command: serve, demo, db, user, node, and the pipeline's commands."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from enertrack.config import ConfigError, Settings, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a clear error on stderr and exit non-zero."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def settings_or_exit(*, check: bool = False, **overrides: object) -> Settings:
    """The validated settings, or every problem on stderr and exit 2."""
    try:
        return load_settings(check=check, **overrides)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = settings_or_exit()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine, revision)
    except Exception as exc:  # noqa: BLE001 - show the database's own words, then exit non-zero
        fail(f"could not migrate the database: {exc}")
    finally:
        engine.dispose()
    click.echo(f"database at revision {revision}")


from enertrack.ingest_cli import ingest  # noqa: E402 - subcommand groups attach after main exists

main.add_command(ingest)

if __name__ == "__main__":  # pragma: no cover
    main()
