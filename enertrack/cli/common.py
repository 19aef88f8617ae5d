"""What every `enertrack` subcommand shares: settings or a clear exit, database sessions."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy.orm import Session, sessionmaker

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


def missing_schema(error: BaseException) -> bool:
    """True when a database error means the tables were never created (SQLite or MariaDB)."""
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or "doesn't exist" in text or "1146" in text


class EnerTrackGroup(click.Group):
    """The command group: configuration and database errors become clear lines, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(2)
        except (OperationalError, DBAPIError) as exc:
            if missing_schema(exc):
                fail("the database has no EnerTrack tables yet: run `enertrack db upgrade` first", code=1)
            fail(f"the users-and-nodes database failed: {getattr(exc, 'orig', exc)}", code=1)


def sessions(settings: Settings) -> sessionmaker[Session]:
    """A session factory on the configured users/nodes database."""
    from enertrack.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.sqlalchemy_url))


def owner_id(db: object, username: str) -> int:
    """The id of the user called username, or a clear exit saying how to create it."""
    from enertrack.web.services.accounts import find_user

    found = find_user(db, username)  # type: ignore[arg-type]
    if found is None:
        fail(f"no user called {username!r}: create it first with `enertrack user create`")
    return found.id
