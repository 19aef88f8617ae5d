"""`enertrack export-readings`: exact CSV on a known dataset, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from enertrack.config import load_settings
from enertrack.core.reading import Reading
from enertrack.db import make_engine, make_session_factory, transaction
from enertrack.migrate import upgrade
from enertrack.models import Node, User
from enertrack.store.sqlite.store import SQLiteStore

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A data directory with user ana, nodes 'casa' (with readings) and 'vacio' (without)."""
    values = {
        "ENERTRACK_DATA_DIR": str(tmp_path),
        "ENERTRACK_ENV": "development",
        "ENERTRACK_STORE": "sqlite",
    }
    for name in ("DATABASE_URL", "MYSQL_USER", "MYSQL_DB", "INFLUX_URL", "ENERTRACK_TSDB_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = load_settings(check=False)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        ana = User(username="ana", email="ana@example.org", password_hash="x")
        session.add(ana)
        session.add_all(
            [
                Node(node_id="casa", owner=ana),
                Node(node_id="vacio", owner=ana),
                Node(node_id="otro", owner=ana),
            ]
        )
    engine.dispose()
    with SQLiteStore(settings.tsdb_file) as store:
        store.write(
            [
                Reading(
                    "casa",
                    T0 + 10,
                    voltage=230.5,
                    current=1.25,
                    power=287.5,
                    energy=12.001,
                    power_factor=0.98,
                    frequency=50.01,
                ),
                Reading("casa", T0, voltage=229.9, power=280.0),  # arrives late, printed first
                Reading("casa", T0 + 3600, energy=12.3),
                Reading("otro", T0 + 5, voltage=231.0),
            ]
        )
    return values


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["export-readings", *args])
    return result.exit_code, result.stdout, result.stderr


def test_exports_every_reading_of_the_node_oldest_first(env: dict[str, str]) -> None:
    code, out, _ = run("--node", "casa")
    assert code == 0
    assert out == (
        "ts,node_id,voltage,current,power,energy,power_factor,frequency\n"
        "2026-01-01T00:00:00Z,casa,229.9,,280.0,,,\n"
        "2026-01-01T00:00:10Z,casa,230.5,1.25,287.5,12.001,0.98,50.01\n"
        "2026-01-01T01:00:00Z,casa,,,,12.3,,\n"
    )


@pytest.mark.parametrize(
    ("args", "rows"),
    [
        (["--start", "2026-01-01T00:00:10Z"], ["2026-01-01T00:00:10Z", "2026-01-01T01:00:00Z"]),
        (["--end", "2026-01-01T01:00:00+00:00"], ["2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z"]),
        (
            ["--start", "2026-01-01T01:00:05+01:00", "--end", "2026-01-01T00:59:59"],
            ["2026-01-01T00:00:10Z"],
        ),
        (
            ["--start", "2026-01-01", "--end", "2026-01-02"],
            ["2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z", "2026-01-01T01:00:00Z"],
        ),
        (["--start", "2026-01-02"], []),
    ],
)
def test_range_is_start_inclusive_end_exclusive(
    env: dict[str, str], args: list[str], rows: list[str]
) -> None:
    code, out, _ = run("--node", "casa", *args)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "ts,node_id,voltage,current,power,energy,power_factor,frequency"
    assert [line.split(",")[0] for line in lines[1:]] == rows


def test_a_known_node_without_readings_prints_the_header(env: dict[str, str]) -> None:
    assert run("--node", "vacio") == (
        0,
        "ts,node_id,voltage,current,power,energy,power_factor,frequency\n",
        "",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--node", "nadie"], "unknown node 'nadie'"),
        (["--node", "casa", "--start", "yesterday"], "'yesterday' is not an ISO-8601 date or time"),
        (["--node", "casa", "--end", "2026-13-01"], "'2026-13-01' is not an ISO-8601"),
        (
            ["--node", "casa", "--start", "2026-01-02", "--end", "2026-01-01"],
            "must be before --end",
        ),
        (
            ["--node", "casa", "--start", "2026-01-01", "--end", "2026-01-01T00:00:00Z"],
            "must be before --end",
        ),
        ([], "Missing option '--node'"),
    ],
)
def test_bad_input_is_a_clear_error(env: dict[str, str], args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code != 0
    assert out == ""
    assert message in err
