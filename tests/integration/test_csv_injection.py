"""Every CSV EnerTrack writes neutralises a node id that looks like a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from enertrack.cli.main import main
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import DashClient

NODE = "-cmd"  # a valid node id (letters, digits, _ and -) that a spreadsheet would read as a formula
T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
READINGS = [Reading(NODE, T0 + 60 * i, power=-5.0 if i == 0 else 1000.0, energy=i / 60) for i in range(121)]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def node_column(text: str, index: int) -> set[str]:
    return {row[index] for row in cells(text)[1:]}


def test_readings_download_and_analysis_csv_neutralise_the_node_id(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = create_user(app, "ana", timezone="UTC")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": NODE, "interval_s": 60})
    services.store.write(READINGS, {NODE: EnergyParams(60)})
    login(client, dash, "ana")

    response = client.get(f"/enertrack/nodes/{NODE}/readings.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert node_column(text, 1) == {"'-cmd"}
    assert cells(text)[1][4] == "-5.0"  # a negative number stays a number

    result = dash.call("analysis-download.data", [1], ["day", "2026-01-01", "2026-01-01", [NODE], "all"])
    assert result.status_code == 200
    content = result.get_json()["response"]["analysis-download"]["data"]["content"]
    assert node_column(content, 1) == {"'-cmd"}


def test_cli_exports_neutralise_the_node_id(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "ENERTRACK_STORE": "sqlite"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", "a long enough password", "--timezone", "UTC"],
                         env=env).exit_code == 0
    added = runner.invoke(main, ["node", "add", "--user", "ana", "--id", NODE, "--interval", "60"], env=env)
    assert added.exit_code == 0, added.output
    with SQLiteStore(tmp_path / "timeseries.sqlite3") as store:
        store.write(READINGS, {NODE: EnergyParams(60)})

    readings = runner.invoke(main, ["export-readings", "--node", NODE], env=env)
    assert readings.exit_code == 0, readings.output
    assert node_column(readings.output, 1) == {"'-cmd"}

    energy = runner.invoke(main, ["export", "--user", "ana", "--period", "day", "--start", "2026-01-01",
                                  "--end", "2026-01-02"], env=env)
    assert energy.exit_code == 0, energy.output
    assert node_column(energy.output, 1) == {"'-cmd"}
