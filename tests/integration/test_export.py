"""`enertrack export`: the CSV for scripts, exact on a known dataset."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from enertrack.core.calendar import day_start
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.sqlite.store import SQLiteStore


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", "a long enough password", "--timezone", "Europe/Madrid"],
                         env=env).exit_code == 0
    for node in ("n1", "n2"):
        assert runner.invoke(main, ["node", "add", "--user", "ana", "--id", node, "--interval", "60"],
                             env=env).exit_code == 0
    store = SQLiteStore(tmp_path / "timeseries.sqlite3")
    start = day_start(date(2026, 3, 28), ZoneInfo("Europe/Madrid"))
    # n1: 1 kW for 3 local days across the spring DST change (24 + 23 + 24 hours).
    store.write([Reading("n1", ts, power=1000.0, energy=(ts - start) / 3600)
                 for ts in range(start, start + 71 * 3600 + 1, 60)], {"n1": EnergyParams(60)})
    store.close()
    return env


def export(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["export", "--user", "ana", *args], env=env)


def test_days_in_the_users_timezone(env: dict[str, str]) -> None:
    result = export(env, "--period", "day", "--start", "2026-03-28", "--end", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "period_start,node_id,energy_kwh\n"
        "2026-03-28T00:00:00+01:00,n1,24.000\n"
        "2026-03-28T00:00:00+01:00,n2,0.000\n"
        "2026-03-29T00:00:00+01:00,n1,23.000\n"
        "2026-03-29T00:00:00+01:00,n2,0.000\n"
        "2026-03-30T00:00:00+02:00,n1,24.000\n"
        "2026-03-30T00:00:00+02:00,n2,0.000\n"
    )


def test_one_node_another_timezone(env: dict[str, str]) -> None:
    result = export(env, "--period", "month", "--start", "2026-03-01", "--end", "2026-04-01", "--tz", "UTC",
                    "--node", "n1")
    assert result.exit_code == 0, result.output
    assert result.output == "period_start,node_id,energy_kwh\n2026-03-01T00:00:00+00:00,n1,71.000\n"


def test_a_node_named_twice_is_exported_once(env: dict[str, str]) -> None:
    result = export(env, "--period", "month", "--start", "2026-03-01", "--end", "2026-04-01", "--tz", "UTC",
                    "--node", "n1", "--node", "n2", "--node", "n1")
    assert result.exit_code == 0, result.output
    assert result.output == ("period_start,node_id,energy_kwh\n2026-03-01T00:00:00+00:00,n1,71.000\n"
                             "2026-03-01T00:00:00+00:00,n2,0.000\n")


def test_hours_of_the_dst_day(env: dict[str, str]) -> None:
    result = export(env, "--period", "hour", "--start", "2026-03-29", "--end", "2026-03-30", "--node", "n1")
    lines = result.output.splitlines()
    assert len(lines) == 1 + 23
    assert lines[2:4] == ["2026-03-29T01:00:00+01:00,n1,1.000", "2026-03-29T03:00:00+02:00,n1,1.000"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "day", "--start", "2026-13-01", "--end", "2026-03-31"), "is not a date like 2026-01-31"),
        (("--period", "day", "--start", "2026-03-31", "--end", "2026-03-01"), "must be after --start"),
        (("--period", "week", "--start", "2026-03-01", "--end", "2026-03-31"), "'week' is not one of"),
        (("--period", "day", "--start", "2026-03-01", "--end", "2026-03-31", "--tz", "Mars/Olympus"),
         "--tz must be an IANA timezone"),
        (("--period", "day", "--start", "2026-03-01", "--end", "2026-03-31", "--node", "other"), "ana has no node 'other'"),
    ],
)
def test_bad_input(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    result = export(env, *args)
    assert result.exit_code != 0
    assert message in result.output


def test_unknown_user(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["export", "--user", "nobody", "--period", "day", "--start", "2026-03-01",
                                       "--end", "2026-03-02"], env=env)
    assert result.exit_code == 2 and "no user called 'nobody'" in result.output
