"""Flux records in, readings, energy rows and frames out (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from influxdb_client.client.flux_table import FluxRecord

from enertrack.core.energy import DEFAULT_PARAMS
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import SERIES_COLUMNS
from enertrack.store.influx.ledger import EnergyRow
from enertrack.store.influx.line_protocol import RULE_FIELDS

if TYPE_CHECKING:  # imported where a query builds a frame: the ingest daemon never loads it
    import pandas as pd


def epoch(value: datetime) -> int:
    """Whole epoch seconds of a parsed Flux time (the store writes at second precision)."""
    return math.floor(value.timestamp())


def float_or_nan(value: float | None) -> float:
    return float(value) if value is not None else math.nan


def newest_reading(node_id: str, fields: Sequence[tuple[int, str, float]]) -> Reading:
    """The reading at the newest timestamp among (ts, field, value) last values.

    A field the newest reading did not carry has an older last value, so it is left out.
    """
    newest = max(ts for ts, _, _ in fields)
    values = {name: value for ts, name, value in fields if ts == newest and name in NAMES}
    return Reading(node_id=node_id, ts=newest, **values)


def record_reading(node_id: str, record: FluxRecord) -> Reading:
    """A Reading from one pivoted row (fields it lacks are None; rule knobs are ignored)."""
    values = record.values
    return Reading(
        node_id=node_id,
        ts=epoch(record.get_time()),
        **{name: float(values[name]) for name in NAMES if values.get(name) is not None},
    )


def energy_row(record: FluxRecord) -> EnergyRow | None:
    """(ts, energy, power, interval, max power) from one pivoted row, NaN where absent.

    None for a row with neither energy nor power (it is not part of the rules). A point
    without rule knobs (written without them) gets the defaults.
    """
    values = record.values
    energy, power = values.get("energy"), values.get("power")
    if energy is None and power is None:
        return None
    interval, max_power = (values.get(name) for name in RULE_FIELDS)
    return (
        epoch(record.get_time()),
        float_or_nan(energy),
        float_or_nan(power),
        float(interval) if interval is not None else float(DEFAULT_PARAMS.interval_s),
        float(max_power) if max_power is not None else DEFAULT_PARAMS.max_power_w,
    )


def edge_row(fields: Sequence[tuple[int, str, float]], *, newest: bool) -> EnergyRow | None:
    """The reading just outside the range, rebuilt from per-field last/first values."""
    times = [ts for ts, name, _ in fields if name in ("energy", "power")]
    if not times:
        return None
    ts = max(times) if newest else min(times)
    at = {name: value for t, name, value in fields if t == ts}
    interval, max_power = (at.get(name) for name in RULE_FIELDS)
    return (
        ts,
        at.get("energy", math.nan),
        at.get("power", math.nan),
        interval if interval is not None else float(DEFAULT_PARAMS.interval_s),
        max_power if max_power is not None else DEFAULT_PARAMS.max_power_w,
    )


def series_frame(buckets: Mapping[int, Mapping[str, float]], width: int) -> pd.DataFrame:
    """SERIES_COLUMNS, one row per bucket that has readings, oldest first."""
    import pandas as pd  # lazy: the ingest daemon never builds a frame

    ordered = sorted(ts for ts, aggs in buckets.items() if aggs.get("count"))
    frame = pd.DataFrame(
        {
            "ts": np.array(ordered, dtype=np.int64),
            "min": np.array([buckets[ts].get("min", math.nan) for ts in ordered], dtype=np.float64),
            "max": np.array([buckets[ts].get("max", math.nan) for ts in ordered], dtype=np.float64),
            "mean": np.array(
                [buckets[ts].get("mean", math.nan) for ts in ordered], dtype=np.float64
            ),
            "count": np.array([buckets[ts].get("count", 0) for ts in ordered], dtype=np.int64),
        }
    )
    return frame[SERIES_COLUMNS]

