"""The SQLite store's connections: one per thread, WAL mode, explicit write transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from enertrack.store.base import StoreUnavailable
from enertrack.store.sqlite.schema import PAGE_SIZE, ensure_schema

CHUNK = 300  # nodes (or clusters) per statement, well under SQLite's bound-variable limit
DEFAULT_CACHE_MIB = 64  # page cache per connection: year-long queries of the web app stay in memory


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most size items: one statement each."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Connections:
    """The path, this thread's connection and the series-id cache that the read and write paths share."""

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
                    ensure_schema(conn, self.path)
                    self._schema_ready = True
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every connection this store opened, in any thread."""
        with self._lock:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
            self._local = threading.local()

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
