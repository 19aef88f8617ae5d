"""SQLiteStore: the shared contract, plus durability, concurrency, locking and cover()."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from enertrack.core.columns import ReadingColumns
from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import StoreUnavailable, WriteResult
from enertrack.store.cover import RAW, cover, levels_dividing
from enertrack.store.sqlite.schema import PAGE_SIZE, ROLLUP_TABLES, RULE_COLUMNS, SCHEMA_VERSION
from enertrack.store.sqlite.store import SQLiteStore
from tests.store_contract import (
    DAY,
    T0,
    StoreContract,
    assert_energy_equal,
    energy_by_period,
    meter,
    reference_energy,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh, empty store in a temporary file."""
    opened = SQLiteStore(tmp_path / "ts.sqlite3")
    yield opened
    opened.close()


class TestSQLiteContract(StoreContract):
    """Everything every store does."""


# -- durability and schema ---------------------------------------------------------------------


def test_durable_settings(store: SQLiteStore) -> None:
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def test_every_thread_gets_the_same_settings(store: SQLiteStore) -> None:
    seen: list[tuple[object, ...]] = []

    def look() -> None:
        conn = store._conn()
        seen.append((id(conn), conn.execute("PRAGMA synchronous").fetchone()[0]))

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert seen[0][0] != id(store._conn()) and seen[0][1] == 2


def test_schema_columns_come_from_the_magnitudes_table(store: SQLiteStore) -> None:
    conn = store._conn()
    assert [row[1] for row in conn.execute("PRAGMA table_info(readings)")] == [
        "series",
        "ts",
        *NAMES,
        *RULE_COLUMNS,
    ]
    for table in ROLLUP_TABLES.values():
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        assert columns == [
            "series",
            "bucket",
            *(f"{m}_{a}" for m in NAMES for a in ("n", "sum", "min", "max")),
            "energy_kwh",
        ]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_data_survives_reopening(tmp_path: Path) -> None:
    data = meter("n1", T0, 30, 60)
    with SQLiteStore(tmp_path / "ts.sqlite3") as first:
        first.write(data)
    with SQLiteStore(tmp_path / "ts.sqlite3") as second:
        assert list(second.readings("n1")) == data
        assert second.write(data) == WriteResult(0, 30)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite3"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreUnavailable, match="upgrade EnerTrack"):
        SQLiteStore(path)


def test_each_reading_keeps_the_energy_parameters_it_was_written_with(store: SQLiteStore) -> None:
    store.write([Reading("a", T0, power=1.0), Reading("b", T0, power=2.0)], {"a": EnergyParams(60, 5e3)})
    store.write([Reading("a", T0 + 60, power=1.0), Reading("a", T0, power=9.0)], {"a": EnergyParams(30)})
    rows = store._conn().execute(
        f"SELECT s.node_id, r.ts, {', '.join(RULE_COLUMNS)} FROM readings r"
        " JOIN series s ON s.id = r.series ORDER BY s.node_id, r.ts"
    )
    assert rows.fetchall() == [
        ("a", T0, 60, 5000.0),  # the redelivery under new settings changed nothing
        ("a", T0 + 60, 30, 30_000.0),
        ("b", T0, 10, 30_000.0),  # a node without settings: the defaults, as the rules applied
    ]


def _make_version_1(path: Path) -> None:
    """Turn a store file into what EnerTrack with schema version 1 wrote: no rule columns."""
    with sqlite3.connect(path) as conn:
        for column in RULE_COLUMNS:
            conn.execute(f"ALTER TABLE readings DROP COLUMN {column}")
        conn.execute("PRAGMA user_version=1")
        assert [row[1] for row in conn.execute("PRAGMA table_info(readings)")] == [
            "series",
            "ts",
            *NAMES,
        ]
    conn.close()


def test_a_version_1_file_is_upgraded_in_place_and_stays_exact(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite3"
    params = {"n1": EnergyParams(interval_s=60, max_power_w=20_000.0)}
    data = meter("n1", T0, 2 * DAY // 60, 60)
    old, late = data[::2], data[1::2]  # every other reading arrives after the upgrade
    with SQLiteStore(path) as first:
        first.write(old, params)
    _make_version_1(path)

    with SQLiteStore(path) as upgraded:
        conn = upgraded._conn()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [row[1] for row in conn.execute("PRAGMA table_info(readings)")][-2:] == list(
            RULE_COLUMNS
        )
        assert list(upgraded.readings("n1")) == old  # nothing lost nor changed
        assert upgraded.write(late[:700], params) == WriteResult(700, 0)
    with SQLiteStore(path) as reopened:  # a second open does not upgrade again
        assert reopened.write(late[700:] + old[:3], params) == WriteResult(len(late) - 700, 3)
        assert list(reopened.readings("n1")) == data
        nulls = reopened._conn().execute(
            "SELECT count(*) FROM readings WHERE rule_interval_s IS NULL"
        )
        assert nulls.fetchone()[0] == len(old)  # rows from before: NULL, read as the batch's
        want = reference_energy(data, params, 900)
        got = reopened.energy(["n1"], list(range(T0, T0 + 2 * DAY + 1, 900)))
        assert_energy_equal(energy_by_period(got), want)


def test_an_unusable_path_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="cannot open"):
        SQLiteStore(tmp_path / "file" / "ts.sqlite3")


def test_first_of_duplicates_in_a_batch_is_kept(store: SQLiteStore) -> None:
    assert store.write(
        [Reading("n1", T0, voltage=230.0), Reading("n1", T0, voltage=999.0)]
    ) == WriteResult(1, 1)
    assert store.write([Reading("n1", T0, voltage=111.0)]) == WriteResult(0, 1)
    assert list(store.readings("n1")) == [Reading("n1", T0, voltage=230.0)]


# -- failures: nothing half-written, the same batch retried later ------------------------------


def test_locked_database_is_store_unavailable_and_the_retry_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite3"
    store = SQLiteStore(path, busy_timeout_ms=50)
    before = meter("n1", T0, 100, 60)
    store.write(before)
    batch = (
        meter("n1", T0 + 100 * 60, 50, 60, seed=2) + before[-5:]
    )  # new readings and a redelivery

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreUnavailable, match="database is locked.*|retry it later"):
        store.write(batch)
    assert store.latest(["n1"]) == {"n1": before[-1]}  # readers still read (WAL)
    other.execute("ROLLBACK")
    other.close()

    assert store.write(batch) == WriteResult(stored=50, duplicates=5)
    everything = before + batch[:50]
    assert list(store.readings("n1")) == everything
    assert store.series("n1", "power", T0, T0 + DAY, 1)["count"].tolist() == [150]
    want = reference_energy(everything, {}, DAY)
    assert_energy_equal(energy_by_period(store.energy(["n1"], [T0, T0 + DAY])), want)
    store.close()


def test_a_failure_mid_write_rolls_everything_back(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = meter("fresh", T0, 200, 60)
    original = SQLiteStore._upsert
    calls = {"n": 0}

    def failing(conn: sqlite3.Connection, level: int, rows: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # readings and the 15-minute rollup are in, then the disk fails
            raise sqlite3.OperationalError("disk I/O error")
        original(conn, level, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "_upsert", staticmethod(failing))
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        store.write(batch)
    assert store.latest(["fresh"]) == {}
    assert list(store.readings("fresh")) == []
    assert store.series("fresh", "power", T0, T0 + DAY).empty

    assert store.write(batch) == WriteResult(
        stored=200, duplicates=0
    )  # the series row is created anew
    assert store.latest(["fresh"]) == {"fresh": batch[-1]}
    assert store.series("fresh", "power", T0, T0 + DAY, 1)["count"].tolist() == [200]
    assert_energy_equal(
        energy_by_period(store.energy(["fresh"], [T0, T0 + DAY])), reference_energy(batch, {}, DAY)
    )


# -- concurrency -------------------------------------------------------------------------------


def test_readers_in_other_threads_while_writing(store: SQLiteStore) -> None:
    data = meter("n1", T0, 3000, 10)
    errors: list[BaseException] = []
    counts: dict[int, list[int]] = {0: [], 1: []}
    done = threading.Event()

    def read(me: int) -> None:
        try:
            while not done.is_set():
                frame = store.series("n1", "voltage", T0, T0 + DAY, 1)
                counts[me].append(int(frame["count"].sum()) if len(frame) else 0)
                store.latest(["n1"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(me,)) for me in counts]
    for thread in readers:
        thread.start()
    for i in range(0, len(data), 100):
        store.write(data[i : i + 100])
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    for seen in counts.values():
        assert seen == sorted(seen)  # never backwards
        assert all(c % 100 == 0 for c in seen)  # only whole committed batches
    assert store.series("n1", "voltage", T0, T0 + DAY, 1)["count"].tolist() == [3000]


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many stored rows each write read around its batch (one entry per write)."""
    counts: list[int] = []
    original = SQLiteStore._neighbourhood

    def counting(*args: object) -> np.ndarray:
        rows = original(*args)  # type: ignore[arg-type]
        counts.append(len(rows))
        return rows

    monkeypatch.setattr(SQLiteStore, "_neighbourhood", staticmethod(counting))
    return counts


def test_a_stale_clock_reads_the_neighbours_only_and_stays_exact(
    store: SQLiteStore, fetched: list[int]
) -> None:
    params = {"n": EnergyParams(interval_s=60)}
    history = meter("n", T0, 20 * DAY // 60, 60)  # 28,800 readings
    store.write(history, params)
    fetched.clear()
    live = meter("n", T0 + 20 * DAY, 10, 60, seed=2)
    stale = Reading("n", T0 + DAY + 30, energy=history[24 * 60].energy, power=800.0)  # 19 days old
    redelivered = history[5 * 24 * 60]  # an exact duplicate from 15 days ago
    batch = [*live[:5], stale, redelivered, *live[5:]]
    assert store.write(batch, params) == WriteResult(stored=11, duplicates=1)
    # The old code read the 19 days in between (27,000 rows). Now: the live cluster's
    # neighbour before it, the stale reading's two neighbours, and the duplicate's own row
    # with its two neighbours.
    assert fetched == [6]

    everything = history + live + [stale]
    assert list(store.readings("n")) == sorted(everything, key=lambda r: r.ts)
    quarters = list(range(T0, T0 + 21 * DAY, 900))
    want = reference_energy(everything, params, 900)
    assert_energy_equal(energy_by_period(store.energy(["n"], quarters)), want)


def test_readings_close_in_time_are_read_as_one_cluster(
    store: SQLiteStore, fetched: list[int]
) -> None:
    store.write(meter("n", T0, 600, 60))
    fetched.clear()
    late = [Reading("n", T0 + 100 * 60 + 30 + i * 600, power=5.0) for i in range(3)]  # 10 min apart
    assert store.write(late).stored == 3
    assert fetched == [20 + 2]  # the 20 stored rows between the first and the last, 2 neighbours


def _history(node: str, days: int, **magnitudes: float) -> ReadingColumns:
    """A node's readings every 10 s for `days`, carrying only the given magnitudes."""
    ts = np.arange(T0, T0 + days * DAY, 10, dtype=np.int64)
    columns = {name: np.full(ts.size, magnitudes.get(name, np.nan)) for name in NAMES}
    if "energy" in magnitudes:
        columns["energy"] = magnitudes["energy"] + np.arange(ts.size) * 0.001
    return ReadingColumns(node, ts, **columns)


def _vm_steps(store: SQLiteStore, batch: list[Reading]) -> int:
    """SQLite virtual-machine steps (in hundreds) a write takes: work, without a clock."""
    conn = store._conn()
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0  # go on

    conn.set_progress_handler(tick, 100)
    try:
        store.write(batch)
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


@pytest.mark.parametrize(
    ("magnitudes", "stale"),
    [
        ({"energy": 100.0, "power": 300.0}, True),  # a meter, one reading with a stale clock
        ({"voltage": 230.0}, False),  # a voltage-only node: no energy rule window to look for
        ({"voltage": 230.0}, True),
    ],
)
def test_the_work_of_a_write_does_not_grow_with_the_history(
    tmp_path: Path, magnitudes: dict[str, float], stale: bool
) -> None:
    steps = []
    for days in (1, 12):
        with SQLiteStore(tmp_path / f"{days}.sqlite3") as store:
            store.write(_history("n", days, **magnitudes))
            end = T0 + days * DAY
            batch = [Reading("n", end + i * 10, **magnitudes) for i in range(20)]
            if stale:
                batch.append(Reading("n", T0 + 3605, **magnitudes))  # between two old readings
            steps.append(_vm_steps(store, batch))
    small, large = steps
    assert large <= small * 1.2 + 5, steps  # 12x the history, (almost) the same work


def test_a_writer_in_another_process_and_a_reader_here(store: SQLiteStore) -> None:
    script = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from enertrack.store.sqlite.store import SQLiteStore
from tests.store_contract import meter, T0
store = SQLiteStore({str(store.path)!r}, busy_timeout_ms=10000)
data = meter("other", T0, 2000, 10)
for i in range(0, len(data), 50):
    store.write(data[i : i + 50])
store.close()
"""
    writer = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while "other" not in store.latest(["other"]):  # the other process has to start first
        assert writer.poll() is None and time.monotonic() < deadline, "the writer never wrote"
        time.sleep(0.005)
    mine = meter("here", T0, 2000, 10, seed=3)
    seen = T0
    for i in range(0, len(mine), 50):  # this process writes too: the two take turns on the lock
        store.write(mine[i : i + 50])
        latest = store.latest(["other"])["other"]  # once there, never gone
        assert latest.ts >= seen  # and never backwards
        seen = latest.ts
    assert writer.wait(timeout=120) == 0
    assert list(store.readings("other")) == meter("other", T0, 2000, 10)
    assert list(store.readings("here")) == mine


def test_writers_in_two_threads(store: SQLiteStore) -> None:
    data = {n: meter(n, T0, 1000, 10, seed=i) for i, n in enumerate(("a", "b"))}

    def write(node: str) -> None:
        for i in range(0, 1000, 20):
            store.write(data[node][i : i + 20])

    threads = [threading.Thread(target=write, args=(n,)) for n in data]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for node, readings in data.items():
        assert list(store.readings(node)) == readings


def test_readings_are_streamed(store: SQLiteStore) -> None:
    store.write(meter("n1", T0, 5000, 10))
    stream = store.readings("n1")
    first = next(stream)
    assert first.ts == T0
    store.write(
        [Reading("n1", T0 + 10**6, voltage=230.0)]
    )  # the open stream does not block a write
    assert sum(1 for _ in stream) == 4999  # a snapshot taken when the stream started
    stream.close()


# -- cover() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "levels", "expected"),
    [
        (0, 0, (900, 3600, 86400), []),
        (10, 5, (900, 3600, 86400), []),
        (0, 86400, (900, 3600, 86400), [(86400, 0, 86400)]),
        (100, 800, (900, 3600, 86400), [(RAW, 100, 800)]),
        (100, 2000, (900, 3600, 86400), [(RAW, 100, 900), (900, 900, 1800), (RAW, 1800, 2000)]),
        (
            86400 - 3600 - 900 - 5,
            2 * 86400 + 3600 + 900 + 7,
            (900, 3600, 86400),
            [
                (RAW, 81895, 81900),
                (900, 81900, 82800),
                (3600, 82800, 86400),
                (86400, 86400, 172800),
                (3600, 172800, 176400),
                (900, 176400, 177300),
                (RAW, 177300, 177307),
            ],
        ),
        (20700, 6 * 3600, (900, 3600, 86400), [(900, 20700, 21600)]),  # +05:45 midnight to 06:00
        (0, 2 * 86400 + 10, (900,), [(900, 0, 172800), (RAW, 172800, 172810)]),
        (5, 10, (), [(RAW, 5, 10)]),
    ],
)
def test_cover(
    start: int, end: int, levels: tuple[int, ...], expected: list[tuple[int, int, int]]
) -> None:
    segments = cover(start, end, levels)
    assert [(s.level, s.start, s.end) for s in segments] == expected
    if segments:  # contiguous, exact, each rollup segment made of whole buckets
        assert segments[0].start == start and segments[-1].end == end
        assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
        assert all(s.start % s.level == 0 and s.end % s.level == 0 for s in segments)


@pytest.mark.parametrize(
    ("width", "levels"),
    [
        (60, ()),
        (900, (900,)),
        (1800, (900,)),
        (3600, (900, 3600)),
        (10800, (900, 3600)),
        (86400, (900, 3600, 86400)),
        (604800, (900, 3600, 86400)),
    ],
)
def test_levels_dividing(width: int, levels: tuple[int, ...]) -> None:
    assert levels_dividing(width) == levels


def test_reading_columns_fast_path_stores_the_same_as_readings(tmp_path: Path) -> None:
    """The bulk path (arrays) and the object path give identical readings, rollups and energy."""
    import numpy as np

    from enertrack.core.columns import ReadingColumns
    from enertrack.core.energy import EnergyParams

    ts = np.arange(1_790_000_000, 1_790_000_000 + 3 * 86400, 60, dtype=np.int64)
    power = 500 + 400 * np.sin(ts / 5000.0)
    energy = np.cumsum(power) * 60 / 3_600_000
    energy[len(energy) // 2:] -= energy[len(energy) // 2]  # a meter restart in the middle
    voltage = np.where(ts % 600 == 0, np.nan, 230.0)  # some readings lack voltage
    nan = np.full(ts.size, np.nan)
    columns = ReadingColumns("n", ts, voltage, nan, power, energy, nan, nan)
    params = {"n": EnergyParams(60)}
    fast, slow = SQLiteStore(tmp_path / "fast.sqlite3"), SQLiteStore(tmp_path / "slow.sqlite3")
    assert fast.write(columns, params).stored == ts.size
    assert slow.write(list(columns), params).stored == ts.size
    assert list(fast.readings("n")) == list(slow.readings("n"))
    marks = list(range(int(ts[0]) // 3600 * 3600, int(ts[-1]) + 3600, 3600))
    pd.testing.assert_frame_equal(fast.energy(["n"], marks), slow.energy(["n"], marks))
    pd.testing.assert_frame_equal(fast.series("n", "voltage", int(ts[0]), int(ts[-1])),
                                  slow.series("n", "voltage", int(ts[0]), int(ts[-1])))
    fast.close()
    slow.close()
