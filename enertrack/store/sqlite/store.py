"""The embedded time-series store: one SQLite file in WAL mode, rollups kept in the writes.

docs/storage.md describes the schema, the rollup levels and how each query uses them.
The file's schema and upgrades live in schema.py, its connections in connection.py, the write
path in write.py and the read path in read.py; SQLiteStore puts them together.
"""

from __future__ import annotations

from enertrack.store.sqlite.connection import DEFAULT_CACHE_MIB
from enertrack.store.sqlite.read import Reads
from enertrack.store.sqlite.write import Writes


class SQLiteStore(Writes, Reads):
    """TimeseriesStore on one SQLite file; one connection per thread, safe for many processes."""

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = ["DEFAULT_CACHE_MIB", "SQLiteStore"]
