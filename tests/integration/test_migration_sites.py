"""Migration 0009: every existing user gets one site holding all their nodes, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from enertrack.db import make_engine
from enertrack.migrate import alembic_config, upgrade


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def _check(engine: Engine) -> None:
    upgrade(engine, "0004")
    with engine.begin() as conn:
        for uid, name, lang in ((1, "ana", "es"), (2, "bob", "en"), (3, "eve", "es")):
            conn.execute(text("INSERT INTO users (id, username, email, password_hash, timezone, language, currency)"
                              " VALUES (:i, :n, :e, 'x', 'Europe/Madrid', :l, 'EUR')"),
                         {"i": uid, "n": name, "e": f"{name}@example.com", "l": lang})
        for node, owner in (("a1", 1), ("a2", 1), ("b1", 2)):
            conn.execute(text("INSERT INTO nodes (node_id, owner_id, description, location, interval_s)"
                              " VALUES (:n, :o, '', '', 10)"), {"n": node, "o": owner})
    upgrade(engine, "0009")
    with engine.connect() as conn:
        sites = conn.execute(text("SELECT owner_id, name, id FROM sites ORDER BY owner_id")).all()
        nodes = dict(conn.execute(text("SELECT node_id, site_id FROM nodes")).all())
    assert [(owner, name) for owner, name, _ in sites] == [(1, "Principal"), (2, "Main"), (3, "Principal")]
    by_owner = {owner: site for owner, _, site in sites}
    assert nodes == {"a1": by_owner[1], "a2": by_owner[1], "b1": by_owner[2]}
    _downgrade(engine, "0004")
    upgrade(engine, "0009")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    yield engine
    engine.dispose()


def test_existing_users_get_one_site_on_sqlite(sqlite_engine: Engine) -> None:
    _check(sqlite_engine)


@pytest.mark.mariadb
def test_existing_users_get_one_site_on_mariadb(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    try:
        _check(engine)
    finally:
        engine.dispose()
