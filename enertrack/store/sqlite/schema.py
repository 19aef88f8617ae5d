"""The SQLite store's schema: tables generated from the magnitudes table, and upgrades of older files."""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from pathlib import Path

from enertrack.core.magnitudes import NAMES
from enertrack.store.base import StoreUnavailable

SCHEMA_VERSION = 2  # 2: readings keep the energy parameters they were written with
PAGE_SIZE = 4096
ROLLUP_TABLES: dict[int, str] = {900: "rollup_15m", 3600: "rollup_1h", 86400: "rollup_1d"}
AGGREGATES = ("n", "sum", "min", "max")  # per magnitude in every rollup row
READING_COLUMNS = ", ".join(NAMES)
# The energy rules' knobs each reading was written with; NULL on rows written before schema 2.
RULE_COLUMNS = ("rule_interval_s", "rule_max_power_w")
RULE_SCHEMA = ("rule_interval_s INTEGER", "rule_max_power_w REAL")


def schema() -> list[str]:
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
        f" {values}, {', '.join(RULE_SCHEMA)},"
        " PRIMARY KEY (series, ts)) WITHOUT ROWID",
    ]
    for table in ROLLUP_TABLES.values():
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {table} (series INTEGER NOT NULL, bucket INTEGER NOT NULL,"
            f" {aggregates}, energy_kwh REAL NOT NULL DEFAULT 0,"
            " PRIMARY KEY (series, bucket)) WITHOUT ROWID"
        )
    return statements


def upsert_sql(table: str) -> str:
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



UPSERT = {level: upsert_sql(table) for level, table in ROLLUP_TABLES.items()}
INSERT_READING = (
    f"INSERT INTO readings (series, ts, {READING_COLUMNS}, {', '.join(RULE_COLUMNS)})"
    f" VALUES ({', '.join('?' * (2 + len(NAMES) + len(RULE_COLUMNS)))})"
)
# Schema upgrades, applied in order to a file of an older version (in one transaction).
UPGRADES: dict[int, list[str]] = {
    1: [f"ALTER TABLE readings ADD COLUMN {column}" for column in RULE_SCHEMA],  # 1 -> 2
}



def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables of a new file, or upgrade an older file in place."""
    if file_version(conn, path) == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have done it meanwhile.
        version = file_version(conn, path)
        if version == 0:
            statements = schema()
        else:
            statements = [sql for old in range(version, SCHEMA_VERSION) for sql in UPGRADES[old]]
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def file_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version (0: a new file); StoreUnavailable when newer than ours."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreUnavailable(
            f"{path} has schema version {version}, newer than this EnerTrack's"
            f" ({SCHEMA_VERSION}): upgrade EnerTrack"
        )
    return version
