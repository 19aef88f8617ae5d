"""InfluxDB line protocol: pure rendering of the exact bytes InfluxStore sends.

Schema: measurement ``energy``, one tag ``node_id``, one float field per magnitude named
from enertrack.core.magnitudes.NAMES, timestamps in whole seconds (the write uses precision=s).
NaN and infinities are never written (the line protocol cannot carry them); a reading left
without any field is not written at all (the line protocol has no point without fields).
Energy ledger points (enertrack.store.influx.ledger) are ``energy_ledger,node_id=… kwh=…``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import StoreRejected
from enertrack.store.influx.ledger import LEDGER_FIELD, LEDGER_MEASUREMENT, LedgerPoint

MEASUREMENT = "energy"
TAG_KEY = "node_id"
# The energy rules' per-node knobs, stored on each point that carries energy or power, so the
# InfluxDB store applies the knobs in force when the reading arrived, as the SQLite rollups do.
RULE_FIELDS = ("rule_interval_s", "rule_max_power_w")

# InfluxDB unescapes exactly these three in tag keys and values (models/points.go tagEscapeCodes).
_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


def escape_tag(value: str) -> str:
    """A tag key or value escaped for the line protocol; StoreRejected if it cannot be written."""
    if not value:
        raise StoreRejected("an empty node id cannot be written to InfluxDB (the tag would vanish)")
    if "\n" in value or "\r" in value or value.endswith("\\"):
        # A newline ends the line; a trailing backslash would escape the separator after it.
        raise StoreRejected(
            f"node id {value!r} cannot be written to InfluxDB: "
            "no line breaks and no trailing backslash allowed"
        )
    return value.translate(_TAG_ESCAPES)


def format_float(value: float) -> str | None:
    """Shortest round-tripping text of a float field, or None for NaN and infinities."""
    number = float(value)  # an int would become an integer field and conflict with the floats
    if not math.isfinite(number):
        return None
    return repr(number)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def render_fields(values: Iterable[tuple[str, float | None]]) -> str:
    """``name=value`` pairs joined by commas, skipping missing and non-finite values."""
    pairs = []
    for name, value in values:
        if value is None:
            continue
        text = format_float(value)
        if text is not None:
            pairs.append(f"{name}={text}")
    return ",".join(pairs)


def render_reading(reading: Reading, params: EnergyParams | None = None) -> str | None:
    """One line for one reading, or None when it carries no finite field.

    With params, a reading that carries energy or power also records the rules' knobs.
    """
    fields = render_fields((name, getattr(reading, name)) for name in NAMES)
    if not fields:
        return None
    if params is not None and (_finite(reading.energy) or _finite(reading.power)):
        rules = render_fields(
            zip(RULE_FIELDS, (params.interval_s, params.max_power_w), strict=True)
        )
        fields = f"{fields},{rules}"
    return f"{MEASUREMENT},{TAG_KEY}={escape_tag(reading.node_id)} {fields} {int(reading.ts)}"


@dataclass(frozen=True, slots=True)
class RenderedBatch:
    """The body of one write request and how the batch's readings were counted."""

    body: bytes
    stored: int  # distinct (node_id, ts) points in the body
    duplicates: int  # readings dropped because an earlier one in the batch had the same node and ts
    empty: int  # readings with no finite field, not written
    readings: tuple[Reading, ...] = ()  # the readings in the body, in order


def render_batch(
    readings: Iterable[Reading], params: Mapping[str, EnergyParams] | None = None
) -> RenderedBatch:
    """Line protocol for a batch: first reading wins per (node_id, ts), like INSERT OR IGNORE.

    InfluxDB would merge two lines with the same series and timestamp field by field; keeping
    the first one makes a batch store what the SQLite store stores.
    """
    knobs = params or {}
    lines: list[str] = []
    written: list[Reading] = []
    seen: set[tuple[str, int]] = set()
    duplicates = empty = 0
    for reading in readings:
        key = (reading.node_id, int(reading.ts))
        if key in seen:
            duplicates += 1
            continue
        line = render_reading(reading, knobs.get(reading.node_id))
        if line is None:
            empty += 1
            continue
        seen.add(key)
        lines.append(line)
        written.append(reading)
    body = "\n".join(lines).encode("utf-8")
    return RenderedBatch(
        body=body, stored=len(lines), duplicates=duplicates, empty=empty, readings=tuple(written)
    )


def render_ledger(points: Iterable[LedgerPoint]) -> bytes:
    """Line protocol for energy ledger points, one line each (kWh always a float)."""
    lines = []
    for point in points:
        kwh = format_float(point.kwh)
        if kwh is None:  # the rules never give NaN from finite readings; never send one
            raise ValueError(f"energy ledger point {point} is not a finite number")
        tag = escape_tag(point.node_id)
        lines.append(f"{LEDGER_MEASUREMENT},{TAG_KEY}={tag} {LEDGER_FIELD}={kwh} {int(point.ts)}")
    return "\n".join(lines).encode("utf-8")
