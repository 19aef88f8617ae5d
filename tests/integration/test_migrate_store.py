"""`enertrack migrate-store`: the embedded store's readings copied into VictoriaMetrics and into another
SQLite store are identical, a second run copies nothing, and an interrupted run goes on where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from enertrack.cli.main import main
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.base import StoreUnavailable
from enertrack.store.sqlite.store import SQLiteStore
from tests.ingest_process import make_users_db
from tests.victoria import Victoria, expected_samples

START = 1_767_225_600  # 2026-01-01T00:00:00Z
NODES = {"casa-1": 10, "taller": 30}  # node -> interval_s, as registered in the users database


def _readings() -> list[Reading]:
    out = []
    for node, interval in NODES.items():
        for i in range(1200 if node == "casa-1" else 300):
            ts = START + i * interval
            # 4 decimals: victoria-metrics keeps about 12 significant digits of a float
            out.append(Reading(node, ts, voltage=230.0 + (i % 7) / 10, current=1.0 + i % 3, power=200.0 + i % 50,
                               energy=round(12.5 + i * 0.0006, 4), power_factor=0.95, frequency=50.0))
    return out


@pytest.fixture
def installation(tmp_path: Path) -> dict[str, str]:
    """An embedded-defaults installation: users database and SQLite store in the data directory, filled."""
    data = tmp_path / "data"
    data.mkdir()
    make_users_db(f"sqlite:///{data / 'enertrack.sqlite3'}", ["casa-1"], interval_s=10)
    with SQLiteStore(data / "timeseries.sqlite3") as store:
        store.write(_readings(), {"casa-1": EnergyParams(interval_s=10)})
    return {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(data)}


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["migrate-store", *args], env=env)


def test_copied_into_victoria_metrics_and_a_second_run_copies_nothing(
    installation: dict[str, str], victoria: Victoria
) -> None:
    env = {**installation, **victoria.settings_env()}
    first = _run(env, "--to", "influx", "--batch", "500")
    assert first.exit_code == 0, first.output
    assert "copied 1500 readings of 2 nodes to influx" in first.output
    params = {"casa-1": EnergyParams(interval_s=10)}  # taller is not registered: the defaults' knobs
    exported = victoria.export()
    assert exported == expected_samples(_readings(), params)
    second = _run(env, "--to", "influx")
    assert second.exit_code == 0 and "nothing to copy" in second.output
    assert victoria.export() == exported


def test_copied_into_another_sqlite_store_identically(installation: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    first = _run(installation, "--to", "sqlite", "--target", str(target), "--batch", "250")
    assert first.exit_code == 0, first.output
    source_file = Path(installation["ENERTRACK_DATA_DIR"]) / "timeseries.sqlite3"
    boundaries = list(range(START, START + 2 * 86400 + 1, 3600))
    with SQLiteStore(source_file) as source, SQLiteStore(target) as copy:
        for node in NODES:
            assert list(copy.readings(node)) == list(source.readings(node))
        assert copy.energy(list(NODES), boundaries).equals(source.energy(list(NODES), boundaries))
    second = _run(installation, "--to", "sqlite", "--target", str(target))
    assert "nothing to copy" in second.output


def test_an_interrupted_copy_goes_on_where_it_stopped(installation: dict[str, str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "copy.sqlite3"
    real_write = SQLiteStore.write
    writes: list[int] = []

    def failing_after_three(self: SQLiteStore, readings, params=None):  # type: ignore[no-untyped-def]
        if self.path == target.resolve() and len(writes) == 3:
            raise StoreUnavailable("the target went away")
        if self.path == target.resolve():
            writes.append(len(readings))
        return real_write(self, readings, params)

    monkeypatch.setattr(SQLiteStore, "write", failing_after_three)
    broken = _run(installation, "--to", "sqlite", "--target", str(target), "--batch", "100")
    assert broken.exit_code == 1
    assert "the target went away" in broken.output and "run the same command again" in broken.output
    checkpoint = next(Path(installation["ENERTRACK_DATA_DIR"]).glob("timeseries.sqlite3.copied-*.json"))
    assert json.loads(checkpoint.read_text())["done"] == {"casa-1": START + 299 * 10}  # three batches of 100
    monkeypatch.setattr(SQLiteStore, "write", real_write)
    resumed = _run(installation, "--to", "sqlite", "--target", str(target), "--batch", "100")
    assert resumed.exit_code == 0, resumed.output
    assert "copied 1200 readings of 2 nodes" in resumed.output and "(0 were there already)" in resumed.output
    with SQLiteStore(target) as copy:
        assert sum(1 for node in NODES for _ in copy.readings(node)) == 1500


def test_bad_invocations_are_one_clear_line(installation: dict[str, str], tmp_path: Path) -> None:
    no_target = _run(installation, "--to", "sqlite")
    assert no_target.exit_code == 2 and "--to sqlite needs --target PATH" in no_target.output
    no_influx = _run(installation, "--to", "influx")
    assert no_influx.exit_code == 2 and "--to influx needs INFLUX_URL, INFLUX_TOKEN" in no_influx.output
    missing = _run(installation, "--to", "sqlite", "--target", str(tmp_path / "x.sqlite3"), "--from",
                   str(tmp_path / "nothing.sqlite3"))
    assert missing.exit_code == 2 and "no SQLite store at" in missing.output
    itself = _run(installation, "--to", "sqlite", "--target",
                  str(Path(installation["ENERTRACK_DATA_DIR"]) / "timeseries.sqlite3"))
    assert itself.exit_code == 2 and "--target is the source itself" in itself.output
