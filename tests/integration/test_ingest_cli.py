"""`enertrack ingest errors`: the dead-letter list from the command line, and its failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest.batcher import DeadLetter
from enertrack.ingest.payload import Reason, Rejection
from enertrack.ingest.users_db import record
from tests.ingest_process import make_users_db


@pytest.fixture
def users_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return url


def test_errors_lists_newest_first_and_filters_by_node(users_url: str) -> None:
    make_users_db(users_url, ["n1"])
    engine = make_engine(users_url)
    sessions = make_session_factory(engine)
    record(sessions, [
        DeadLetter(Rejection(Reason.BAD_JSON, "payload is not valid JSON", "n1", "{oops"), "enertrack/n1/telemetry",
                   1_750_000_000.0),
        DeadLetter(Rejection(Reason.UNKNOWN_NODE, "node 'x' is not registered", "x", '{"p": 1}'),
                   "enertrack/x/telemetry", 1_750_000_060.0),
    ], [])
    engine.dispose()
    runner = CliRunner()
    out = runner.invoke(main, ["ingest", "errors"]).output
    assert out.index("x  unknown_node") < out.index("n1  bad_json")
    assert "2025-06-15T15:07:40Z  x  unknown_node  enertrack/x/telemetry" in out
    assert "    payload: {oops" in out
    only = runner.invoke(main, ["ingest", "errors", "--node", "n1", "--limit", "5"]).output
    assert "bad_json" in only and "unknown_node" not in only
    assert runner.invoke(main, ["ingest", "errors", "--node", "n9"]).output == "no rejected messages for node n9\n"


def test_errors_never_print_raw_control_characters_from_the_network(users_url: str) -> None:
    # Node ids were checked with `$`, which lets "n1\n" through: rows recorded before that was
    # fixed, and any text a node chose, must not reach the terminal as escape sequences.
    make_users_db(users_url, ["n1"])
    engine = make_engine(users_url)
    record(make_session_factory(engine), [
        DeadLetter(Rejection(Reason.UNKNOWN_NODE, "node 'n1\\n' is not registered\x1b[2J", "n1\n\x1b[31m",
                             "{\\x1b}\x07"), "enertrack/n1\n\x1b[31m/telemetry", 1_750_000_000.0),
    ], [])
    engine.dispose()
    out = CliRunner().invoke(main, ["ingest", "errors"]).output
    lines = out.splitlines()
    assert len(lines) == 3 and all(line.isprintable() for line in lines), out
    assert lines[0] == "2025-06-15T15:06:40Z  n1\\n\\x1b[31m  unknown_node  enertrack/n1\\n\\x1b[31m/telemetry"


def test_errors_on_an_unmigrated_database_says_what_to_do(users_url: str) -> None:
    result = CliRunner().invoke(main, ["ingest", "errors"])
    assert result.exit_code == 2
    assert "enertrack db upgrade" in result.output


def test_errors_refuses_a_silly_limit(users_url: str) -> None:
    result = CliRunner().invoke(main, ["ingest", "errors", "--limit", "0"])
    assert result.exit_code == 2 and "--limit" in result.output


@pytest.mark.parametrize("revision", [None, "0002"])
def test_the_daemon_refuses_to_start_on_a_database_behind_the_newest_migration(
    tmp_path: Path, revision: str | None
) -> None:
    # At 0002 the daemon used to start, then retry every batch forever ("store unavailable")
    # because it reads 0003's nodes.max_power_w. It must say what to do and exit 2 instead.
    import subprocess
    import sys

    from enertrack.migrate import upgrade
    from tests.mqtt_broker import ROOT, environ_without_mqtt
    from tests.services import free_port

    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    if revision is not None:
        engine = make_engine(url)
        upgrade(engine, revision)
        engine.dispose()
    env = {**environ_without_mqtt(), "DATABASE_URL": url, "ENERTRACK_DATA_DIR": str(tmp_path / "data"),
           "DOMINIO": "127.0.0.1", "PUERTO_MQTTS": str(free_port()), "MQTT_TLS": "false"}
    done = subprocess.run([sys.executable, "ingest.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert "run `enertrack db upgrade`" in done.stderr
    if revision is not None:
        assert "the users database is at revision 0002 but this EnerTrack needs" in done.stderr
    assert "connected" not in done.stderr and "cannot connect" not in done.stderr  # it never got that far
