"""The daemon's side records on a real MariaDB: text a latin1 table refuses never blocks ingestion."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from enertrack.db import make_engine, make_session_factory
from enertrack.ingest.users_db import recent_rejections
from enertrack.migrate import upgrade
from tests.integration.test_ingest_logic import FlakyStore, make_committer, msg

pytestmark = pytest.mark.mariadb


def collations(url: str) -> dict[tuple[str, str], str]:
    """(table, column) -> collation of every text column of the database at url."""
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND collation_name IS NOT NULL"))
        found = {(table, column): collation for table, column, collation in rows}
    engine.dispose()
    return found


def test_on_a_latin1_database_refused_text_is_dropped_the_rest_recorded_and_0004_converts_it(
    mysql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A database created with a latin1 default and migrated before 0004, as older installs were.
    engine = make_engine(mysql_url)
    with engine.begin() as connection:
        connection.execute(text(f"ALTER DATABASE `{make_url(mysql_url).database}` CHARACTER SET latin1"))
    upgrade(engine, "0003")
    with engine.begin() as connection:  # plain SQL: today's models have columns 0003 did not
        connection.execute(text("INSERT INTO users (username, email, password_hash, timezone, language) "
                                "VALUES ('owner', 'o@example.org', 'x', 'Europe/Madrid', 'es')"))
        connection.execute(text("INSERT INTO nodes (node_id, owner_id, description, location, interval_s) "
                                "VALUES ('n1', LAST_INSERT_ID(), '', '', 10)"))
    engine.dispose()
    assert collations(mysql_url)[("rejected_messages", "excerpt")].startswith("latin1")

    store = FlakyStore(failures=0)
    committer, ack, engine = make_committer(mysql_url, store)
    sessions = make_session_factory(engine)
    committer.commit([
        msg(1, {"ts": 1_749_999_000, "p": 1}),
        msg(2, '{"p": "\U0001f525 hot"}'.encode()),  # an emoji: escaped, so even latin1 takes it
        msg(3, '{"p": "中"}'.encode()),  # not latin1: MariaDB error 1366, a data error
        msg(4, {"ts": 1_749_999_001, "p": 2}),
    ])
    assert [r.ts for r in store.batches[0]] == [1_749_999_000, 1_749_999_001]
    assert [mid for mid, *_ in ack.acks] == [1, 2, 3, 4]  # nothing held back
    assert [r.excerpt for r in recent_rejections(sessions)] == ['{"p": "\\U0001f525 hot"}']
    assert "the users database refused a dead letter of node n1, dropped" in caplog.text
    assert "1366" in caplog.text
    engine.dispose()

    upgrade(make_engine(mysql_url))  # 0004: every table utf8mb4, node ids still case-sensitive
    found = collations(mysql_url)
    node_ids = {key: found.pop(key) for key in list(found) if key[1] == "node_id"}  # nodes, dead letters, alerts
    assert {("nodes", "node_id"), ("rejected_messages", "node_id")} <= set(node_ids)
    assert set(node_ids.values()) == {"utf8mb4_bin"}
    assert {c for (table, _), c in found.items() if table != "alembic_version"} == {"utf8mb4_unicode_ci"}
    caplog.clear()
    caplog.set_level(logging.WARNING)
    committer, ack, engine = make_committer(mysql_url, store)
    committer.commit([msg(5, '{"p": "中"}'.encode())])
    assert recent_rejections(make_session_factory(engine))[0].excerpt == '{"p": "中"}'
    assert "refused" not in caplog.text and [mid for mid, *_ in ack.acks] == [5]
    engine.dispose()
