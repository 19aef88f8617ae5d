"""The SQLite store's read path: latest values, chart series, summaries, energy and raw readings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from enertrack.core.groups import sorted_groups
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import (
    DEFAULT_MAX_POINTS,
    SERIES_COLUMNS,
    Extreme,
    RangeSummary,
    StoreUnavailable,
    bucket_width,
    check_boundaries,
    check_magnitude,
    empty_energy_frame,
    energy_frame,
)
from enertrack.store.cover import RAW, Segment, cover, levels_dividing
from enertrack.store.sqlite.connection import Connections, chunks
from enertrack.store.sqlite.schema import READING_COLUMNS, ROLLUP_TABLES

if TYPE_CHECKING:  # imported where a query builds a frame: the ingest daemon never loads it
    import pandas as pd

STREAM_ROWS = 1000  # rows fetched at a time by readings()


class Reads(Connections):
    """Queries of the web app, the exports and the daemon (latest); none of them writes."""

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        """The newest reading of each node that has one (one index seek per node)."""
        out: dict[str, Reading] = {}
        for part in chunks(list(dict.fromkeys(node_ids))):
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
            for seg_part in chunks(segments):
                for part in chunks(list(sids)):
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

    def reading_counts(self, after: Mapping[str, int] | None = None) -> dict[str, int]:
        """Readings per node id (only those with ts > after[node] when given): what a copy will move."""
        rows = self._read("SELECT node_id, id FROM series ORDER BY node_id")
        counts: dict[str, int] = {}
        for node_id, sid in rows:
            low = (after or {}).get(node_id, -(2**62))
            counts[node_id] = int(self._read("SELECT count(*) FROM readings WHERE series = ? AND ts > ?",
                                             (sid, low))[0][0])
        return counts

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
                f"SELECT ts, {READING_COLUMNS} FROM readings"
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
