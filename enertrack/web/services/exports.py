"""Readings as CSV rows, for the web download and `enertrack export-readings` alike."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.csv_cells import safe_row

HEADER = ["ts", "node_id", *NAMES]


def instant(text: str) -> int:
    """Epoch seconds of an ISO-8601 date or time; without an offset it is UTC. ValueError else."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def iso_utc(ts: int) -> str:
    """2026-01-02T03:04:05Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_rows(readings: Iterable[Reading]) -> Iterable[list[object]]:
    """One CSV row per reading (text cells neutralised); a magnitude the reading did not carry is empty."""
    for reading in readings:
        yield safe_row([iso_utc(reading.ts), reading.node_id, *(getattr(reading, name) for name in NAMES)])
