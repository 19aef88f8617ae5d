"""InfluxStore's energy arithmetic (pure): raw readings in a range plus the ones just outside it
give the same kWh per period as the rules applied to a node's whole history at once."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from enertrack.energy import EnergyParams, Points, bucket_energy
from enertrack.store.base import ENERGY_COLUMNS
from enertrack.store.influx import EnergyRow, edge_row, energy_frame, newest_reading
from enertrack.store.line_protocol import RULE_FIELDS
from enertrack.telemetry.reading import Reading

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
PARAMS = {"c": EnergyParams(interval_s=120, max_power_w=20_000.0), "w": EnergyParams(interval_s=10)}


def history(seed: int) -> list[Reading]:
    """A counter node with resets, glitches and readings without it; a power-only node with gaps."""
    rng = random.Random(seed)
    out: list[Reading] = []
    energy = 500.0
    for i in range(1500):
        ts = T0 + i * 120 + rng.randrange(0, 30)
        roll = rng.random()
        if roll < 0.02:
            energy = rng.uniform(0.0, 0.5)
        elif roll < 0.03:
            out.append(Reading("c", ts, energy=energy + 500.0))
            continue
        elif roll < 0.06:
            out.append(Reading("c", ts, voltage=230.0))
            continue
        energy += rng.uniform(0.0, 0.1)
        out.append(Reading("c", ts, energy=round(energy, 6), power=rng.uniform(0, 3000)))
    t = T0 + 7
    for _ in range(6000):
        t += rng.choice([10, 10, 10, 12, 25, 45])
        out.append(Reading("w", t, power=rng.uniform(0.0, 4000.0)))
    return out


def row(reading: Reading) -> EnergyRow:
    knobs = PARAMS[reading.node_id]
    return (
        reading.ts,
        math.nan if reading.energy is None else reading.energy,
        math.nan if reading.power is None else reading.power,
        float(knobs.interval_s),
        knobs.max_power_w,
    )


def field_values(reading: Reading) -> list[tuple[int, str, float]]:
    """(ts, field, value) of the fields InfluxDB holds for one reading's energy-related point."""
    knobs = PARAMS[reading.node_id]
    out = [
        (reading.ts, name, getattr(reading, name))
        for name in ("energy", "power")
        if getattr(reading, name) is not None
    ]
    if out:
        out += [
            (reading.ts, RULE_FIELDS[0], float(knobs.interval_s)),
            (reading.ts, RULE_FIELDS[1], knobs.max_power_w),
        ]
    return out


def per_field(readings: list[Reading], *, last: bool) -> list[tuple[int, str, float]]:
    """What Flux last()/first() give: one (ts, field, value) per field."""
    chosen: dict[str, tuple[int, str, float]] = {}
    for item in sorted((v for r in readings for v in field_values(r)), reverse=not last):
        chosen[item[1]] = item
    return list(chosen.values())


def reference(readings: list[Reading], bounds: list[int]) -> dict[tuple[str, int], float]:
    """The rules over each node's whole history, quarters summed into the periods."""
    nodes = ["c", "w"]
    rows = sorted(
        (nodes.index(r.node_id), *row(r))
        for r in readings
        if r.energy is not None or r.power is not None
    )
    data = np.array(rows, dtype=np.float64)
    points = Points(
        data[:, 0].astype(np.int64),
        data[:, 1].astype(np.int64),
        data[:, 2],
        data[:, 3],
        data[:, 4],
        data[:, 5],
    )
    series, quarter, kwh = bucket_energy(points)
    period = np.searchsorted(bounds, quarter, side="right") - 1
    out: dict[tuple[str, int], float] = {}
    for s, p, k in zip(series, period, kwh, strict=True):
        if 0 <= p < len(bounds) - 1:
            key = (nodes[s], bounds[p])
            out[key] = out.get(key, 0.0) + float(k)
    return {key: value for key, value in out.items() if abs(value) > 1e-9}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_range_plus_edges_equals_the_whole_history(seed: int) -> None:
    readings = history(seed)
    rng = random.Random(seed)
    first = T0 + 900 * rng.randrange(0, 40)
    bounds = sorted({first, *(first + 900 * rng.randrange(1, 200) for _ in range(6))})
    start, end = bounds[0], bounds[-1]
    rows_by_node: dict[str, list[EnergyRow]] = {}
    for node in ("c", "w"):
        mine = [r for r in readings if r.node_id == node]
        inside = [
            row(r)
            for r in mine
            if start <= r.ts < end and (r.energy is not None or r.power is not None)
        ]
        before = edge_row(per_field([r for r in mine if r.ts < start], last=True), newest=True)
        after = edge_row(per_field([r for r in mine if r.ts >= end], last=False), newest=False)
        rows_by_node[node] = [*([before] if before else []), *inside, *([after] if after else [])]
    got = energy_frame(["c", "w"], rows_by_node, bounds)
    assert list(got.columns) == ENERGY_COLUMNS
    assert got[["period_start", "node_id"]].values.tolist() == sorted(
        got[["period_start", "node_id"]].values.tolist()
    )
    want = reference(readings, bounds)
    assert {(n, p): k for n, p, k in got.itertuples(index=False)} == pytest.approx(want, abs=1e-9)
    assert len(got) == len(want)


def test_the_edge_reading_keeps_only_the_fields_it_carried() -> None:
    fields = [
        (100, "energy", 5.0),
        (90, "power", 300.0),
        (100, RULE_FIELDS[0], 60.0),
        (100, RULE_FIELDS[1], 9000.0),
    ]
    assert edge_row(fields, newest=True) == (
        100,
        5.0,
        pytest.approx(math.nan, nan_ok=True),
        60.0,
        9000.0,
    )
    ts, energy, power, interval, bound = edge_row(fields, newest=False)  # type: ignore[misc]
    assert (ts, power, interval, bound) == (
        90,
        300.0,
        10.0,
        30_000.0,
    )  # no knobs on it: the defaults
    assert math.isnan(energy)
    assert edge_row([(5, RULE_FIELDS[0], 60.0)], newest=True) is None


def test_newest_reading_ignores_older_fields_and_rule_knobs() -> None:
    fields = [
        (10, "voltage", 230.0),
        (20, "power", 5.0),
        (20, RULE_FIELDS[0], 60.0),
        (20, "current", 0.1),
    ]
    assert newest_reading("n", fields) == Reading("n", 20, power=5.0, current=0.1)


def test_no_points_no_rows() -> None:
    got = energy_frame(["a"], {"a": []}, [T0, T0 + 900])
    assert list(got.columns) == ENERGY_COLUMNS and got.empty
