"""`enertrack db copy --to URL`: the users database moves from SQLite to a real MariaDB, rerunnable."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from enertrack.cli.main import main
from enertrack.db import make_engine
from enertrack.models import Base

pytestmark = pytest.mark.mariadb


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _seconds(value: object) -> object:
    # MariaDB's DATETIME keeps whole seconds (what an installation made on MariaDB stores too).
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: [tuple(map(_seconds, r)) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """An installation on the embedded SQLite users database, with users, nodes and a dead letter."""
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path)}
    assert _run(env, "db", "upgrade").exit_code == 0
    for name in ("ana", "bea"):
        done = _run(env, "user", "create", "--username", name, "--email", f"{name}@example.com",
                    "--password", "a long enough password")
        assert done.exit_code == 0, done.output
    for node, owner in (("Casa-1", "ana"), ("casa-1", "bea"), ("taller", "ana")):  # ids differ only in case
        done = _run(env, "node", "add", "--user", owner, "--id", node, "--description", "Cocina ñ €",
                    "--max-power", "9000")
        assert done.exit_code == 0, done.output
    engine = make_engine(f"sqlite:///{tmp_path / 'enertrack.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET price_per_kwh = 0.15432 WHERE username = 'ana'")
        conn.exec_driver_sql("INSERT INTO rejected_messages (received_at, node_id, topic, reason, message, excerpt)"
                             " VALUES ('2026-01-02 03:04:05', 'ghost', 'enertrack/ghost/telemetry', 'unknown_node',"
                             " 'no such node', '{}')")
    engine.dispose()
    return env


def test_users_and_nodes_are_copied_to_mariadb_and_a_rerun_copies_nothing(embedded: dict[str, str],
                                                                           mysql_url: str) -> None:
    first = _run(embedded, "db", "copy", "--to", mysql_url)
    assert first.exit_code == 0, first.output
    # 2 users, their 2 sites, 3 nodes and 1 dead letter
    assert "copied 8 rows" in first.output and "nodes: 3 new, 0 there already" in first.output
    source = _dump(f"sqlite:///{embedded['ENERTRACK_DATA_DIR']}/enertrack.sqlite3")
    copied = _dump(mysql_url)
    assert copied == source
    users = copied["users"]
    assert any(Decimal("0.15432") in row for row in users) and all(isinstance(row[4], datetime) for row in users)
    again = _run(embedded, "db", "copy", "--to", mysql_url)
    assert again.exit_code == 0 and "copied 0 rows" in again.output
    # The copy is a working installation: its ids go on after the copied ones, case-distinct ids stay two.
    on_mariadb = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": embedded["ENERTRACK_DATA_DIR"],
                  "DATABASE_URL": mysql_url}
    assert _run(on_mariadb, "user", "create", "--username", "cris", "--email", "cris@example.com",
                "--password", "a long enough password").exit_code == 0
    listed = _run(on_mariadb, "node", "list").output.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["Casa-1", "taller", "casa-1"]


def test_a_target_holding_other_rows_is_refused_in_one_line(embedded: dict[str, str], mysql_url: str,
                                                            tmp_path: Path) -> None:
    other = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path / "other"), "DATABASE_URL": mysql_url}
    assert _run(other, "db", "upgrade").exit_code == 0
    assert _run(other, "user", "create", "--username", "ana", "--email", "someone@example.com",
                "--password", "a long enough password").exit_code == 0
    clash = _run(embedded, "db", "copy", "--to", mysql_url)
    assert clash.exit_code == 2
    assert "the target already holds other rows that clash" in clash.output and "Traceback" not in clash.output


def test_bad_targets_are_one_clear_line(embedded: dict[str, str]) -> None:
    bad = _run(embedded, "db", "copy", "--to", "not a url")
    assert bad.exit_code == 2 and "--to must be a SQLAlchemy URL" in bad.output
    itself = _run(embedded, "db", "copy", "--to", f"sqlite:///{embedded['ENERTRACK_DATA_DIR']}/enertrack.sqlite3")
    assert itself.exit_code == 2 and "the configured database itself" in itself.output
