"""Migration 0002 (node status, dead letters) agrees with the models, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from enertrack.db import make_engine
from enertrack.migrate import alembic_config, upgrade
from enertrack.models import Base


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def mariadb_engine(mysql_url: str) -> Iterator[Engine]:
    """An engine on a fresh MariaDB database (the shared mysql_url fixture: ENERTRACK_TEST_MYSQL_URL's server)."""
    engine = make_engine(mysql_url)
    yield engine
    engine.dispose()


def _check(engine: Engine) -> None:
    upgrade(engine, "head")
    assert _diff(engine) == []
    columns = {c["name"] for c in inspect(engine).get_columns("nodes")}
    assert {"last_status", "last_status_at"} <= columns
    _downgrade(engine, "0001")
    assert "rejected_messages" not in inspect(engine).get_table_names()
    upgrade(engine, "head")
    assert _diff(engine) == []


def test_migrations_match_models_on_sqlite(sqlite_engine: Engine) -> None:
    _check(sqlite_engine)


@pytest.mark.mariadb
def test_migrations_match_models_on_mariadb(mariadb_engine: Engine) -> None:
    _check(mariadb_engine)
