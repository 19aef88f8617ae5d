"""Alembic environment: the URL comes from EnerTrack's settings, a -x url=..., or a passed connection."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from enertrack.db import make_engine
from enertrack.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> object:
    """-x url=... first, then the settings (which never need a secret key for this)."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from enertrack.config import load_settings

    return load_settings(check=False).sqlalchemy_url


def run_migrations_offline() -> None:
    """Emit SQL without a database (alembic upgrade --sql)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection (passed in by `enertrack db upgrade`, or opened here)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
