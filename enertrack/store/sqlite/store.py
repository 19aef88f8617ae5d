"""The embedded time-series store: one SQLite file in WAL mode, rollups kept in the writes.

docs/storage.md describes the schema, the rollup levels and how each query uses them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from enertrack.core.energy import DEFAULT_PARAMS, EnergyParams
from enertrack.core.groups import sorted_groups
from enertrack.core.magnitudes import NAMES
from enertrack.store import rollups
from enertrack.store.base import (
    DEFAULT_MAX_POINTS,
    SERIES_COLUMNS,
    Extreme,
    RangeSummary,
    StoreUnavailable,
    WriteResult,
    bucket_width,
    check_boundaries,
    check_magnitude,
    empty_energy_frame,
    energy_frame,
)
from enertrack.store.cover import RAW, ROLLUP_LEVELS_S, Segment, cover, levels_dividing
from enertrack.core.columns import ReadingColumns
from enertrack.core.reading import Reading

if TYPE_CHECKING:  # imported where a query builds a frame: the ingest daemon never loads it
    import pandas as pd

SCHEMA_VERSION = 2  # 2: readings keep the energy parameters they were written with
PAGE_SIZE = 4096
ROLLUP_TABLES: dict[int, str] = {900: "rollup_15m", 3600: "rollup_1h", 86400: "rollup_1d"}
AGGREGATES = ("n", "sum", "min", "max")  # per magnitude in every rollup row
ENERGY_I = NAMES.index("energy")
POWER_I = NAMES.index("power")
TS_BITS = 34  # (series << TS_BITS) | ts is a unique int64 key up to the year 2514
# A write reads the stored rows around each cluster of a node's batch readings, readings no
# further apart than this: one reading with a stale clock reads its own neighbours, never
# the months of history between it and the rest of the batch.
CLUSTER_GAP_S = 900
CHUNK = 300  # nodes (or clusters) per statement, well under SQLite's bound-variable limit
STREAM_ROWS = 1000  # rows fetched at a time by readings()
DEFAULT_CACHE_MIB = 64  # page cache per connection: year-long queries of the web app stay in memory

_NODE_ID, _TS = attrgetter("node_id"), attrgetter("ts")
_VALUES = tuple(attrgetter(name) for name in NAMES)
_READING_COLUMNS = ", ".join(NAMES)
# The energy rules' knobs each reading was written with; NULL on rows written before schema 2.
RULE_COLUMNS = ("rule_interval_s", "rule_max_power_w")
_RULE_SCHEMA = ("rule_interval_s INTEGER", "rule_max_power_w REAL")


def _schema() -> list[str]:
    """CREATE statements, every magnitude column generated from the magnitudes table."""
    values = ", ".join(f"{m} REAL" for m in NAMES)
    aggregates = ", ".join(
        f"{m}_n INTEGER NOT NULL DEFAULT 0, {m}_sum REAL NOT NULL DEFAULT 0,"
        f" {m}_min REAL, {m}_max REAL"
        for m in NAMES
    )
    statements = [
        # Rows are never deleted, so ids stay valid in every process's cache.
        "CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL UNIQUE)",
        "CREATE TABLE IF NOT EXISTS readings (series INTEGER NOT NULL, ts INTEGER NOT NULL,"
        f" {values}, {', '.join(_RULE_SCHEMA)},"
        " PRIMARY KEY (series, ts)) WITHOUT ROWID",
    ]
    for table in ROLLUP_TABLES.values():
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {table} (series INTEGER NOT NULL, bucket INTEGER NOT NULL,"
            f" {aggregates}, energy_kwh REAL NOT NULL DEFAULT 0,"
            " PRIMARY KEY (series, bucket)) WITHOUT ROWID"
        )
    return statements


def _upsert_sql(table: str) -> str:
    """Merge a partial-aggregate row into a rollup level (counts, sums add; min/max combine)."""
    columns = ["series", "bucket", *(f"{m}_{a}" for m in NAMES for a in AGGREGATES), "energy_kwh"]
    updates: list[str] = []
    for m in NAMES:
        updates += [
            f"{m}_n = {m}_n + excluded.{m}_n",
            f"{m}_sum = {m}_sum + excluded.{m}_sum",
            # SQLite's two-argument min() is NULL when either side is: fall back to the other.
            f"{m}_min = coalesce(min({m}_min, excluded.{m}_min), {m}_min, excluded.{m}_min)",
            f"{m}_max = coalesce(max({m}_max, excluded.{m}_max), {m}_max, excluded.{m}_max)",
        ]
    updates.append("energy_kwh = energy_kwh + excluded.energy_kwh")
    marks = ", ".join("?" * len(columns))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        f" ON CONFLICT (series, bucket) DO UPDATE SET {', '.join(updates)}"
    )


_UPSERT = {level: _upsert_sql(table) for level, table in ROLLUP_TABLES.items()}
_INSERT_READING = (
    f"INSERT INTO readings (series, ts, {_READING_COLUMNS}, {', '.join(RULE_COLUMNS)})"
    f" VALUES ({', '.join('?' * (2 + len(NAMES) + len(RULE_COLUMNS)))})"
)
# Schema upgrades, applied in order to a file of an older version (in one transaction).
_UPGRADES: dict[int, list[str]] = {
    1: [f"ALTER TABLE readings ADD COLUMN {column}" for column in _RULE_SCHEMA],  # 1 -> 2
}


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True, slots=True)
class _Batch:
    """A write batch as columns sorted by (node, ts), first occurrence of each (node, ts) only."""

    node_ids: list[str]  # distinct node ids; `code` indexes this list
    code: np.ndarray  # int64 per row
    ts: np.ndarray  # int64 per row
    values: np.ndarray  # float64 (rows, magnitudes), NaN where the reading did not carry it
    duplicates: int  # rows dropped because the same (node, ts) came earlier in the batch

    @classmethod
    def of(cls, readings: Sequence[Reading]) -> _Batch:
        """Columns from Reading objects without a Python loop per reading."""
        if isinstance(readings, ReadingColumns):  # one node, strictly increasing ts: sorted, no duplicates
            return cls([readings.node_id], np.zeros(len(readings), dtype=np.int64), readings.ts.astype(np.int64),
                       readings.matrix(), 0)
        # One C-level pass per attribute: about 3x faster than building a tuple per reading.
        nodes = list(map(_NODE_ID, readings))
        index = {node: i for i, node in enumerate(dict.fromkeys(nodes))}
        code = np.fromiter(map(index.__getitem__, nodes), dtype=np.int64, count=len(nodes))
        ts = np.fromiter(map(_TS, readings), dtype=np.int64, count=len(nodes))
        values = np.empty((len(nodes), len(NAMES)), dtype=np.float64)
        for i, getter in enumerate(_VALUES):
            values[:, i] = np.array(
                list(map(getter, readings)), dtype=np.float64
            )  # None becomes NaN
        order = np.lexsort((np.arange(ts.size), ts, code))  # stable: the first duplicate wins
        code, ts, values = code[order], ts[order], values[order]
        first = np.ones(ts.size, dtype=bool)
        first[1:] = (code[1:] != code[:-1]) | (ts[1:] != ts[:-1])
        return cls(list(index), code[first], ts[first], values[first], int(ts.size - first.sum()))


# Columns of the rows _neighbourhood() returns.
_SERIES, _TS_COL, _ENERGY, _POWER, _INTERVAL, _BOUND, _WHERE = range(7)


def _with_rules(values: np.ndarray) -> np.ndarray:
    """Which readings (rows of a magnitudes matrix) the energy rules use: energy or power."""
    return ~np.isnan(values[:, ENERGY_I]) | ~np.isnan(values[:, POWER_I])


@dataclass(frozen=True, slots=True)
class _Knobs:
    """The energy parameters a batch is written with, one per node of the batch (by code)."""

    series: np.ndarray  # int64 series id of each code
    interval_s: np.ndarray  # int64 reporting interval of each code
    max_power_w: np.ndarray  # float64 glitch bound of each code

    def of_series(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval and bound for rows of the batch's series."""
        sorter = np.argsort(self.series)
        code = sorter[np.searchsorted(self.series, series, sorter=sorter)]
        return self.interval_s[code], self.max_power_w[code]


@dataclass(frozen=True, slots=True)
class _Clusters:
    """Runs of a node's batch readings at most CLUSTER_GAP_S apart: what a write reads around."""

    series: np.ndarray  # int64 series id of each cluster
    lo: np.ndarray  # int64 first ts
    hi: np.ndarray  # int64 last ts
    rules: np.ndarray  # bool: holds a reading with energy or power, so the rules' window matters

    @classmethod
    def of(cls, series: np.ndarray, ts: np.ndarray, values: np.ndarray) -> _Clusters:
        """Clusters of readings sorted by (series, ts)."""
        split = np.ones(ts.size, dtype=bool)
        split[1:] = (series[1:] != series[:-1]) | (ts[1:] - ts[:-1] > CLUSTER_GAP_S)
        starts = np.flatnonzero(split)
        ends = np.r_[starts[1:], ts.size] - 1
        rules = np.logical_or.reduceat(_with_rules(values), starts)
        return cls(series[starts], ts[starts], ts[ends], rules)


def _energy_delta(
    existing: np.ndarray,
    series: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    code: np.ndarray,
    knobs: _Knobs,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy per quarter that the new readings (of batch `code`) add to or take from the stored ones.

    Stored readings count with the parameters they were written with. NULL (written before
    schema 2) stands for this batch's: what the old code applied, and what those readings were
    rolled up with unless the node's settings changed before the upgrade (docs/storage.md).
    """
    window = existing[~np.isnan(existing[:, _ENERGY]) | ~np.isnan(existing[:, _POWER])]
    w_series, w_ts = window[:, _SERIES].astype(np.int64), window[:, _TS_COL].astype(np.int64)
    # A stored reading next to two clusters comes twice: keep it once.
    _, first = np.unique((w_series << TS_BITS) | w_ts, return_index=True)
    window, w_series, w_ts = window[first], w_series[first], w_ts[first]
    w_energy, w_power = window[:, _ENERGY], window[:, _POWER]
    batch_interval, batch_bound = knobs.of_series(w_series)
    w_interval = np.where(np.isnan(window[:, _INTERVAL]), batch_interval, window[:, _INTERVAL])
    w_bound = np.where(np.isnan(window[:, _BOUND]), batch_bound, window[:, _BOUND])
    old = rollups.make_points(w_series, w_ts, w_energy, w_power, w_interval, w_bound)
    fresh = _with_rules(values)
    new = rollups.make_points(
        np.concatenate([w_series, series[fresh]]),
        np.concatenate([w_ts, ts[fresh]]),
        np.concatenate([w_energy, values[fresh, ENERGY_I]]),
        np.concatenate([w_power, values[fresh, POWER_I]]),
        np.concatenate([w_interval, knobs.interval_s[code[fresh]]]),
        np.concatenate([w_bound, knobs.max_power_w[code[fresh]]]),
    )
    return rollups.energy_delta(old, new)


class SQLiteStore:
    """TimeseriesStore on one SQLite file; one connection per thread, safe for many processes."""

    def __init__(
        self, path: Path | str, *, busy_timeout_ms: int = 5000, cache_mib: int = DEFAULT_CACHE_MIB
    ) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._cache_kib = int(cache_mib * 1024)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._series_ids: dict[str, int] = {}  # ids never change nor disappear, so caching is safe
        self._schema_ready = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn()
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the SQLite store at {self.path}: {exc}") from exc

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """A new connection with the durability and concurrency settings."""
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE for every write
            check_same_thread=False,  # used by one thread only; close() may run on another
        )
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        # Only takes effect when the file is created. 16 KiB pages made bulk writes ~10 % faster,
        # but every small ingest commit then writes 4x the bytes per touched page to the WAL;
        # until that is measured on a quiet machine, SQLite's default stays (docs/performance.md).
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
        conn.execute("PRAGMA synchronous=FULL")  # a returned write() survives power loss
        # Up to cache_mib of page cache per connection, allocated as pages are read.
        conn.execute(f"PRAGMA cache_size=-{self._cache_kib}")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            with self._lock:
                self._connections.append(conn)
                if not self._schema_ready:
                    self._create_schema(conn)
                    self._schema_ready = True
            self._local.conn = conn
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Create the tables of a new file, or upgrade an older file in place."""
        if self._version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have done it meanwhile.
            version = self._version(conn)
            if version == 0:
                statements = _schema()
            else:
                statements = [sql for old in range(version, SCHEMA_VERSION) for sql in _UPGRADES[old]]
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _version(self, conn: sqlite3.Connection) -> int:
        """The file's schema version (0: a new file); StoreUnavailable when newer than ours."""
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.path} has schema version {version}, newer than this EnerTrack's"
                f" ({SCHEMA_VERSION}): upgrade EnerTrack"
            )
        return version

    def close(self) -> None:
        """Close every connection this store opened, in any thread."""
        with self._lock:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
            self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, failure: str) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE (the write lock up front, so no deadlock on upgrade) ... COMMIT.

        Any error rolls everything back; SQLite's errors (locked, disk full, I/O) become
        StoreUnavailable saying `failure`.
        """
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path} {failure} ({exc})") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of a query; a locked or broken database is StoreUnavailable."""
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot be read: {exc}") from exc

    def _series_id(self, node_id: str) -> int | None:
        """The small integer key of a node, None when it never had data."""
        sid = self._series_ids.get(node_id)
        if sid is None:
            rows = self._read("SELECT id FROM series WHERE node_id = ?", (node_id,))
            if not rows:
                return None
            sid = self._series_ids[node_id] = int(rows[0][0])
        return sid

    def reading_counts(self, after: Mapping[str, int] | None = None) -> dict[str, int]:
        """Readings per node id (only those with ts > after[node] when given): what a copy will move."""
        rows = self._read("SELECT node_id, id FROM series ORDER BY node_id")
        counts: dict[str, int] = {}
        for node_id, sid in rows:
            low = (after or {}).get(node_id, -(2**62))
            counts[node_id] = int(self._read("SELECT count(*) FROM readings WHERE series = ? AND ts > ?",
                                             (sid, low))[0][0])
        return counts

    # -- writing -----------------------------------------------------------------------------

    def write(
        self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None
    ) -> WriteResult:
        """Store a batch and its rollups in one durable transaction (all or nothing)."""
        if not readings:
            return WriteResult(0, 0)
        batch = _Batch.of(readings)
        failure = (
            f"did not take a batch of {len(readings)} readings;"
            " nothing of it was stored, retry it later"
        )
        with self._transaction(failure) as conn:
            ids = self._ensure_series(conn, batch.node_ids)
            stored = self._write_locked(conn, batch, ids, params or {})
        self._series_ids.update(
            zip(batch.node_ids, ids.tolist(), strict=True)
        )  # only once committed
        return WriteResult(stored, len(readings) - stored)

    def _ensure_series(self, conn: sqlite3.Connection, node_ids: list[str]) -> np.ndarray:
        """Series ids of the batch's nodes (by code), created when new."""
        missing = [n for n in node_ids if n not in self._series_ids]
        found: dict[str, int] = {}
        if missing:
            conn.executemany(
                "INSERT OR IGNORE INTO series (node_id) VALUES (?)", [(n,) for n in missing]
            )
            for part in _chunks(missing):
                marks = ", ".join("?" * len(part))
                found.update(
                    conn.execute(f"SELECT node_id, id FROM series WHERE node_id IN ({marks})", part)
                )
        return np.array([self._series_ids.get(n) or found[n] for n in node_ids], dtype=np.int64)

    def _write_locked(
        self,
        conn: sqlite3.Connection,
        batch: _Batch,
        ids: np.ndarray,
        params: Mapping[str, EnergyParams],
    ) -> int:
        """Insert the new readings and merge their rollups; return how many were new."""
        series = ids[batch.code]
        existing = self._neighbourhood(conn, _Clusters.of(series, batch.ts, batch.values))

        # Readings already stored (a redelivery) are not new.
        new = np.ones(series.size, dtype=bool)
        inside = existing[:, _WHERE] == 0
        if inside.any():
            stored = existing[inside][:, [_SERIES, _TS_COL]].astype(np.int64)
            keys = (stored[:, 0] << TS_BITS) | stored[:, 1]
            new = ~np.isin((series << TS_BITS) | batch.ts, keys)
        code, ts, values = batch.code[new], batch.ts[new], batch.values[new]
        if ts.size == 0:
            return 0
        series = ids[code]
        chosen = [params.get(node, DEFAULT_PARAMS) for node in batch.node_ids]
        knobs = _Knobs(
            ids,
            np.array([p.interval_s for p in chosen], dtype=np.int64),
            np.array([p.max_power_w for p in chosen], dtype=np.float64),
        )
        conn.executemany(
            _INSERT_READING,
            zip(
                series.tolist(),
                ts.tolist(),
                *values.T.tolist(),
                knobs.interval_s[code].tolist(),
                knobs.max_power_w[code].tolist(),
                strict=True,
            ),
        )

        quarter = rollups.reading_aggregates(series, ts, values, ROLLUP_LEVELS_S[0])
        delta = _energy_delta(existing, series, ts, values, code, knobs)
        if delta[0].size:
            quarter = rollups.merge(quarter, rollups.energy_aggregates(*delta))
        rows = quarter
        for level in ROLLUP_LEVELS_S:  # quarters regroup into hours, hours into days
            rows = rollups.coarsen(rows, level)
            self._upsert(conn, level, rows)
        return int(ts.size)

    @staticmethod
    def _neighbourhood(conn: sqlite3.Connection, clusters: _Clusters) -> np.ndarray:
        """Stored rows around each cluster [lo, hi] of a node's batch readings.

        Columns: series, ts, energy, power, rule_interval_s, rule_max_power_w (NaN for NULL),
        where: 0 for every stored reading inside [lo, hi] (duplicates, window), 1 for the last
        energy/power reading before lo, 2 for the first one after hi: the window of the rules,
        looked up only for clusters with energy or power (a voltage-only node's search would
        walk its whole history). A row may come twice (the neighbour of two clusters). The
        rows read are those of the clusters' spans plus two per cluster.
        """
        columns = ", ".join(("r.series", "r.ts", "r.energy", "r.power", *(f"r.{c}" for c in RULE_COLUMNS)))
        rows: list[tuple[Any, ...]] = []
        table = zip(
            clusters.series.tolist(),
            clusters.lo.tolist(),
            clusters.hi.tolist(),
            clusters.rules.tolist(),
            strict=True,
        )
        for part in _chunks(list(table)):
            marks = ", ".join("(?, ?, ?, ?)" for _ in part)
            sql = f"""
                WITH b(series, lo, hi, rules) AS (VALUES {marks})
                SELECT {columns}, 0 FROM b
                  JOIN readings r ON r.series = b.series AND r.ts BETWEEN b.lo AND b.hi
                UNION ALL
                SELECT {columns}, 1 FROM b
                  JOIN readings r ON r.series = b.series AND r.ts = (
                    SELECT p.ts FROM readings p WHERE p.series = b.series AND p.ts < b.lo
                      AND (p.energy IS NOT NULL OR p.power IS NOT NULL) ORDER BY p.ts DESC LIMIT 1)
                  WHERE b.rules
                UNION ALL
                SELECT {columns}, 2 FROM b
                  JOIN readings r ON r.series = b.series AND r.ts = (
                    SELECT n.ts FROM readings n WHERE n.series = b.series AND n.ts > b.hi
                      AND (n.energy IS NOT NULL OR n.power IS NOT NULL) ORDER BY n.ts ASC LIMIT 1)
                  WHERE b.rules
            """
            rows += conn.execute(sql, [v for row in part for v in row]).fetchall()
        if not rows:
            return np.empty((0, 7), dtype=np.float64)
        return np.array(rows, dtype=np.float64)  # ts < 2**53: exact in float64; None -> NaN

    @staticmethod
    def _upsert(conn: sqlite3.Connection, level: int, rows: rollups.Aggregates) -> None:
        columns: list[list[Any]] = [rows.series.tolist(), rows.bucket.tolist()]
        for i in range(len(NAMES)):
            columns += [
                rows.count[:, i].tolist(),
                rows.total[:, i].tolist(),
                rows.low[:, i].tolist(),
                rows.high[:, i].tolist(),
            ]  # NaN binds as NULL
        columns.append(rows.energy_kwh.tolist())
        conn.executemany(_UPSERT[level], zip(*columns, strict=True))

    # -- reading -----------------------------------------------------------------------------

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        """The newest reading of each node that has one (one index seek per node)."""
        out: dict[str, Reading] = {}
        for part in _chunks(list(dict.fromkeys(node_ids))):
            marks = ", ".join("?" * len(part))
            rows = self._read(
                f"SELECT s.node_id, r.ts, {', '.join('r.' + m for m in NAMES)} FROM series s"
                " JOIN readings r ON r.series = s.id"
                "  AND r.ts = (SELECT max(ts) FROM readings WHERE series = s.id)"
                f" WHERE s.node_id IN ({marks})",
                part,
            )
            out.update((row[0], Reading(*row)) for row in rows)
        return out

    def series(
        self,
        node_id: str,
        magnitude: str,
        start: int,
        end: int,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> pd.DataFrame:
        """Min/max/mean/count per bucket: raw readings below 15 min, else rollups with raw edges."""
        col = check_magnitude(magnitude)  # the column: never interpolate user text
        sid = self._series_id(node_id)
        if sid is None or start >= end:
            return _series_frame([])
        width = bucket_width(start, end, max_points)
        rows: list[tuple[Any, ...]] = []
        for seg in cover(start, end, levels_dividing(width)):
            if seg.level == RAW:
                sql = (
                    f"SELECT ts / {width} * {width} AS b,"
                    f" count({col}), total({col}), min({col}), max({col})"
                    " FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
                    f" AND {col} IS NOT NULL GROUP BY b"
                )
            else:
                sql = (
                    f"SELECT bucket / {width} * {width} AS b, sum({col}_n), total({col}_sum),"
                    f" min({col}_min), max({col}_max) FROM {ROLLUP_TABLES[seg.level]}"
                    f" WHERE series = ? AND bucket >= ? AND bucket < ? AND {col}_n > 0 GROUP BY b"
                )
            rows += self._read(sql, (sid, seg.start, seg.end))
        return _series_frame(rows)

    def summary(self, node_id: str, magnitude: str, start: int, end: int) -> RangeSummary:
        """Min and max (earliest on ties) from the rollups, refined in raw rows; and the last."""
        col = check_magnitude(magnitude)  # the column: never interpolate user text
        sid = self._series_id(node_id)
        if sid is None or start >= end:
            return RangeSummary(None, None, None)
        segments = cover(start, end)
        minimum = self._extreme(sid, col, segments, "ASC")
        maximum = self._extreme(sid, col, segments, "DESC")
        last = self._read(
            f"SELECT {col}, ts FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
            f" AND {col} IS NOT NULL"
            " ORDER BY ts DESC LIMIT 1",
            (sid, start, end),
        )
        return RangeSummary(minimum, maximum, Extreme(*last[0]) if last else None)

    def _extreme(self, sid: int, col: str, segments: list[Segment], order: str) -> Extreme | None:
        """The smallest (ASC) or largest (DESC) value and the first second it was measured."""
        best: tuple[float, int, int, int] | None = None  # value, start, end, level of its bucket
        better = (lambda a, b: a < b) if order == "ASC" else (lambda a, b: a > b)
        for seg in segments:  # oldest first, so on a tie the earlier candidate stays
            if seg.level == RAW:
                sql = (
                    f"SELECT {col}, ts FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
                    f" AND {col} IS NOT NULL ORDER BY {col} {order}, ts LIMIT 1"
                )
            else:
                agg = "min" if order == "ASC" else "max"
                sql = (
                    f"SELECT {col}_{agg}, bucket FROM {ROLLUP_TABLES[seg.level]} WHERE series = ?"
                    f" AND bucket >= ? AND bucket < ? AND {col}_n > 0"
                    f" ORDER BY {col}_{agg} {order}, bucket LIMIT 1"
                )
            found = self._read(sql, (sid, seg.start, seg.end))
            if found and (best is None or better(found[0][0], best[0])):
                value, at = found[0]
                best = (value, at, at + seg.level, seg.level)
        if best is None:
            return None
        value, at, until, level = best
        if level == RAW:
            return Extreme(value, at)
        exact = self._read(  # at most one bucket (a day) of raw rows
            f"SELECT {col}, ts FROM readings WHERE series = ? AND ts >= ? AND ts < ?"
            f" AND {col} IS NOT NULL ORDER BY {col} {order}, ts LIMIT 1",
            (sid, at, until),
        )
        return Extreme(*exact[0]) if exact else Extreme(value, at)

    def energy(self, node_ids: Sequence[str], boundaries: Sequence[int]) -> pd.DataFrame:
        """kWh per node and period from the coarsest rollups that fit each period."""
        bounds = check_boundaries(boundaries)
        sids = {sid: n for n in dict.fromkeys(node_ids) if (sid := self._series_id(n)) is not None}
        if not sids or bounds.size < 2:
            return empty_energy_frame()
        by_level: dict[int, list[tuple[int, int, int]]] = {}
        for period, (a, b) in enumerate(
            zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ):
            for seg in cover(a, b):  # boundaries are 15-min aligned: never a raw segment
                by_level.setdefault(seg.level, []).append((period, seg.start, seg.end))
        rows: list[tuple[int, int, float]] = []
        for (
            level,
            segments,
        ) in by_level.items():  # SQLite sums per (node, period): few rows come back
            for seg_part in _chunks(segments):
                for part in _chunks(list(sids)):
                    rows += self._read(
                        "WITH seg(period, lo, hi) AS (VALUES"
                        f" {', '.join('(?, ?, ?)' for _ in seg_part)})"
                        f" SELECT r.series, seg.period, total(r.energy_kwh) FROM seg"
                        f" JOIN {ROLLUP_TABLES[level]} r"
                        f" ON r.series IN ({', '.join('?' * len(part))})"
                        " AND r.bucket >= seg.lo AND r.bucket < seg.hi"
                        " GROUP BY r.series, seg.period",
                        (*(v for triple in seg_part for v in triple), *part),
                    )
        if not rows:
            return empty_energy_frame()
        return energy_frame(
            [sids[row[0]] for row in rows],
            bounds[np.array([row[1] for row in rows], dtype=np.int64)],
            np.array([row[2] for row in rows], dtype=np.float64),
        )

    def readings(
        self, node_id: str, start: int | None = None, end: int | None = None
    ) -> Iterator[Reading]:
        """Raw readings of one node in [start, end), oldest first, streamed in chunks."""
        sid = self._series_id(node_id)
        if sid is None:
            return iter(())
        return self._stream(node_id, sid, start, end)

    def _stream(
        self, node_id: str, sid: int, start: int | None, end: int | None
    ) -> Iterator[Reading]:
        # A connection of its own: an abandoned iterator never holds a statement open on the
        # thread's connection, and writes on this thread never see a half-read cursor.
        low = -(2**62) if start is None else start
        high = 2**62 if end is None else end
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot be read: {exc}") from exc
        try:
            cursor = conn.execute(
                f"SELECT ts, {_READING_COLUMNS} FROM readings"
                " WHERE series = ? AND ts >= ? AND ts < ? ORDER BY ts",
                (sid, low, high),
            )
            while chunk := cursor.fetchmany(STREAM_ROWS):
                for row in chunk:
                    yield Reading(node_id, *row)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot be read: {exc}") from exc
        finally:
            conn.close()

    def delete_node(self, node_id: str) -> int:
        """Delete a node's readings and every rollup level; return how many readings went."""
        sid = self._series_id(node_id)
        if sid is None:
            return 0
        with self._transaction(f"could not delete node {node_id!r}; nothing was deleted") as conn:
            deleted = conn.execute("DELETE FROM readings WHERE series = ?", (sid,)).rowcount
            for table in ROLLUP_TABLES.values():
                conn.execute(f"DELETE FROM {table} WHERE series = ?", (sid,))
        return int(deleted)


def _series_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """SERIES_COLUMNS from (bucket, count, sum, min, max) rows; repeated buckets combined."""
    import pandas as pd  # lazy: the ingest daemon never builds a frame

    if not rows:
        return pd.DataFrame(
            {
                "ts": pd.Series(dtype="int64"),
                "min": pd.Series(dtype="float64"),
                "max": pd.Series(dtype="float64"),
                "mean": pd.Series(dtype="float64"),
                "count": pd.Series(dtype="int64"),
            }
        )[SERIES_COLUMNS]
    data = np.array(rows, dtype=np.float64)
    bucket = data[:, 0].astype(np.int64)
    order, starts = sorted_groups(bucket)  # a bucket split across segments comes more than once
    data = data[order]
    count = np.add.reduceat(data[:, 1], starts)
    total = np.add.reduceat(data[:, 2], starts)
    return pd.DataFrame(
        {
            "ts": bucket[order[starts]],
            "min": np.fmin.reduceat(data[:, 3], starts),
            "max": np.fmax.reduceat(data[:, 4], starts),
            "mean": total / count,
            "count": count.astype(np.int64),
        }
    )[SERIES_COLUMNS]
