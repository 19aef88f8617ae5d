"""The daemon's memory: pandas (~34 MB) and Alembic (~10 MB) never loaded on its path, SQLite's page cache bounded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from enertrack.config import load_settings
from enertrack.ingest.daemon import WRITER_CACHE_MIB, open_daemon_store
from enertrack.store.sqlite.store import DEFAULT_CACHE_MIB, SQLiteStore

ROOT = Path(__file__).resolve().parents[2]

# Everything the daemon imports and runs at start and per batch, in a fresh interpreter: the
# schema check, decode, the node directory, the SQLite write with its rollups, the InfluxDB line
# protocol, the dead letters.
DAEMON_PATH = """
import json, sys, threading
from pathlib import Path
import enertrack.ingest.daemon, enertrack.store.factory, enertrack.store.influx.store, enertrack.ingest.users_db
from enertrack.db import make_engine
from enertrack.store.influx.line_protocol import render_batch
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.ingest.batcher import Inbound, plan_batch
from enertrack.core.energy import EnergyParams

engine = make_engine("sqlite:///" + sys.argv[1] + ".users")
problem = enertrack.ingest.daemon._wait_for_schema(engine, threading.Event())
messages = [Inbound(i, "enertrack/n1/telemetry", json.dumps({"ts": 1_749_999_000 + i, "v": 230,
            "p": 100 + i, "e": 1 + i / 1000}).encode(), 1_750_000_000.0) for i in range(50)]
plan = plan_batch(messages, "enertrack", lambda node: True)
with SQLiteStore(Path(sys.argv[1]), cache_mib=8) as store:
    store.write(plan.readings, {"n1": EnergyParams(interval_s=10)})
    stored = len(list(store.readings("n1")))
render_batch(plan.readings)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "alembic", "mako"))
print(json.dumps({"stored": stored, "heavy": heavy, "schema": problem}))
"""


def test_the_daemons_path_never_imports_pandas_nor_alembic(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DAEMON_PATH, str(tmp_path / "ts.sqlite3")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == {
        "stored": 50, "heavy": [],
        "schema": "the users database has no EnerTrack tables yet: run `enertrack db upgrade`"}


def test_the_daemons_sqlite_store_has_a_bounded_page_cache_and_the_web_keeps_its_own(tmp_path: Path) -> None:
    settings = load_settings(check=False, ENERTRACK_STORE="sqlite", ENERTRACK_TSDB_PATH=str(tmp_path / "t.sqlite3"))
    daemon_store = open_daemon_store(settings)
    web_store = SQLiteStore(tmp_path / "t.sqlite3")
    try:
        assert isinstance(daemon_store, SQLiteStore)
        cache_kib = -daemon_store._conn().execute("PRAGMA cache_size").fetchone()[0]
        assert cache_kib == WRITER_CACHE_MIB * 1024 < DEFAULT_CACHE_MIB * 1024
        assert -web_store._conn().execute("PRAGMA cache_size").fetchone()[0] == DEFAULT_CACHE_MIB * 1024
    finally:
        daemon_store.close()
        web_store.close()
