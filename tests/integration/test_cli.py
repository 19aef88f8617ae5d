"""The enertrack command: administration with clear errors and non-zero exits for bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main


@pytest.fixture
def env(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path)}


def run(env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, input=input)


def test_db_user_and_node_commands(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    created = run(env, "user", "create", "--username", "ana", "--email", "ana@example.com",
                  "--password", "a long enough password")
    assert created.exit_code == 0, created.output
    added = run(env, "node", "add", "--user", "ana", "--id", "casa-1", "--description", "Cocina",
                "--location", "Madrid", "--interval", "30")
    assert added.exit_code == 0, added.output
    listed = run(env, "node", "list")
    assert listed.output.splitlines() == ["casa-1\tana\t30\tCocina\tMadrid"]
    removed = run(env, "node", "remove", "--user", "ana", "--id", "casa-1", "--yes")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert run(env, "node", "list").output == ""


def test_password_is_prompted_when_omitted(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    result = run(env, "user", "create", "--username", "ana", "--email", "ana@example.com",
                 input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "create", "--username", "a b", "--email", "x", "--password", "short"),
         "username: Use 3 to 32 letters"),
        (("user", "create", "--username", "bob", "--email", "not-an-email", "--password", "a long enough password"),
         "email: Enter a valid email address"),
        (("user", "create", "--username", "bob", "--email", "bob@example.com", "--password", "short"),
         "password: The password needs at least 12 characters"),
        (("node", "add", "--user", "nobody", "--id", "n1"), "no user called 'nobody'"),
        (("node", "add", "--user", "ana", "--id", "bad id"), "node_id: Use 1 to 64 letters"),
        (("node", "add", "--user", "ana", "--id", "n1", "--interval", "0"), "interval_s: The interval must be"),
        (("node", "add", "--user", "ana", "--id", "n1", "--description", "d" * 201), "description: The description"),
        (("node", "add", "--user", "ana", "--id", "taken"), "node_id: That node ID already exists"),
        (("node", "remove", "--user", "ana", "--id", "missing", "--yes"), "ana has no node 'missing'"),
        (("node", "add", "--user", "ana", "--id", "n2", "--max-power", "50"), "max_power_w: Leave the glitch bound"),
    ],
)
def test_bad_input_is_a_clear_error_and_a_non_zero_exit(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    run(env, "db", "upgrade")
    run(env, "user", "create", "--username", "ana", "--email", "ana@example.com", "--password", "a long enough password")
    run(env, "node", "add", "--user", "ana", "--id", "taken")
    result = run(env, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_bad_configuration_is_reported_per_variable(env: dict[str, str]) -> None:
    result = run({**env, "PUERTO_MQTTS": "abc"}, "node", "list")
    assert result.exit_code == 2
    assert "error: PUERTO_MQTTS must be a port number, got 'abc'" in result.output


def test_serve_refuses_production_without_a_secret_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run({"ENERTRACK_DATA_DIR": str(tmp_path), "ENERTRACK_ENV": "production", "FLASK_SECRET_KEY": ""}, "serve")
    assert result.exit_code == 2
    assert "FLASK_SECRET_KEY is required in production" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--port", "99999"), "'--port': 99999 is not in the range 1<=x<=65535"),
        (("serve", "--port", "0"), "'--port': 0 is not in the range 1<=x<=65535"),
        (("serve", "--port", "http"), "'--port': 'http' is not a valid integer range"),
        (("serve", "--workers", "0"), "'--workers': 0 is not in the range 1<=x<=64"),
        (("demo", "--port", "99999"), "'--port': 99999 is not in the range 1<=x<=65535"),
        (("simulate", "--port", "70000"), "'--port': 70000 is not in the range 1<=x<=65535"),
        (("ingest", "errors", "--limit", "0"), "'--limit': 0 is not in the range 1<=x<=1000"),
    ],
)
def test_out_of_range_numbers_are_refused_before_anything_starts(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    started: list[object] = []
    monkeypatch.setattr("enertrack.web.server.run_gunicorn", lambda *a, **k: started.append(a))
    monkeypatch.setattr("enertrack.cli.demo.run_demo", lambda *a, **k: started.append(a) or 0)
    result = run(env, *args)
    assert (result.exit_code, started) == (2, []), result.output
    assert message in result.output and "Traceback" not in result.output


def test_an_unmigrated_database_gets_one_clear_line(env: dict[str, str]) -> None:
    result = run(env, "node", "list")
    assert result.exit_code == 1
    assert "run `enertrack db upgrade` first" in result.output and "Traceback" not in result.output


def test_export_refuses_absurd_dates(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    run(env, "user", "create", "--username", "ana", "--email", "ana@example.com", "--password", "a long enough password")
    result = run(env, "export", "--user", "ana", "--period", "day", "--start", "0001-01-01", "--end", "2026-01-01")
    assert result.exit_code == 2 and "is not a date like 2026-01-31 between 2000-01-01 and 2200-01-01" in result.output
