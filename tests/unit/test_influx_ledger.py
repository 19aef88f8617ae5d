"""The energy ledger (pure): pieces of pairs that add up to the rules, and stamps a late reading keeps."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np
import pytest

from enertrack.core.energy import QUARTER_S, EnergyParams, Points, bucket_energy, split, spread
from enertrack.core.reading import Reading
from enertrack.store.influx.ledger import (
    Cluster,
    EnergyRow,
    LedgerPoint,
    Run,
    Window,
    clusters,
    ledger_points,
    plan_ledger,
    plan_repair,
    reading_row,
    runs,
)

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
NAN = math.nan
PARAMS = {"c": EnergyParams(interval_s=120, max_power_w=20_000.0), "w": EnergyParams(interval_s=10)}


def history(seed: int, count: int = 600) -> list[Reading]:
    """A counter node with restarts, glitches and readings without it; a power-only node with gaps."""
    rng = random.Random(seed)
    out: list[Reading] = []
    energy = 500.0
    for i in range(count):
        ts = T0 + i * 120 + rng.randrange(0, 30)
        roll = rng.random()
        if roll < 0.02:
            energy = rng.uniform(0.0, 0.5)  # the meter restarted
        elif roll < 0.03:
            out.append(Reading("c", ts, energy=energy + 500.0))  # a glitch
            continue
        elif roll < 0.06:
            out.append(Reading("c", ts, voltage=230.0))  # no energy, no power
            continue
        energy += rng.uniform(0.0, 0.1)
        out.append(Reading("c", ts, energy=round(energy, 6), power=rng.uniform(0, 3000)))
    t = T0 + 7
    for _ in range(4 * count):
        t += rng.choice([10, 10, 10, 12, 25, 45, 4000])
        out.append(Reading("w", t, power=rng.uniform(0.0, 4000.0)))
    return out


def rows_of(readings: list[Reading]) -> dict[str, list[EnergyRow]]:
    out: dict[str, list[EnergyRow]] = {}
    for r in readings:
        row = reading_row(r, PARAMS[r.node_id])
        if row is not None:
            out.setdefault(r.node_id, []).append(row)
    return out


def reference(readings: list[Reading]) -> dict[tuple[str, int], float]:
    """kWh per (node, quarter) by bucket_energy, the rules' own per-bucket sums."""
    nodes = sorted({r.node_id for r in readings})
    rows = sorted((nodes.index(n), *row) for n, node_rows in rows_of(readings).items() for row in node_rows)
    data = np.array(rows, dtype=np.float64)
    points = Points(data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), *data[:, 2:].T)
    series, quarter, kwh = bucket_energy(points)
    return {(nodes[s], int(q)): float(k) for s, q, k in zip(series, quarter, kwh, strict=True)}


def per_quarter(points: list[LedgerPoint]) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = defaultdict(float)
    for p in points:
        out[(p.node_id, p.ts - p.ts % QUARTER_S)] += p.kwh
    return dict(out)


def assert_same_energy(got: dict[tuple[str, int], float], want: dict[tuple[str, int], float]) -> None:
    keys = {k for k, v in {**got, **want}.items() if abs(got.get(k, 0.0)) > 1e-12 or abs(want.get(k, 0.0)) > 1e-12}
    assert keys
    for key in keys:
        assert got.get(key, 0.0) == pytest.approx(want.get(key, 0.0), abs=1e-9), key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pieces_summed_per_quarter_are_the_rules(seed: int) -> None:
    readings = history(seed)
    points = ledger_points(rows_of(readings))
    assert_same_energy(per_quarter(points), reference(readings))


@pytest.mark.parametrize("seed", [1, 2])
def test_stamps_are_unique_per_node_and_a_late_reading_only_adds_stamps(seed: int) -> None:
    readings = history(seed, 300)
    full = ledger_points(rows_of(readings))
    stamps = [(p.node_id, p.ts) for p in full]
    assert len(stamps) == len(set(stamps))
    rng = random.Random(seed)
    energy_readings = [r for r in readings if r.energy is not None or r.power is not None]
    for late in rng.sample(energy_readings, 25):
        before = ledger_points(rows_of([r for r in readings if r is not late]))
        assert {(p.node_id, p.ts) for p in before} <= set(stamps), late


def test_a_pair_across_a_quarter_boundary_is_two_pieces_stamped_at_their_starts() -> None:
    # Counter 5.0 at 14:30 past the quarter, 5.2 one minute later: half of it on each side.
    rows = {"m": [(T0 + 870, 5.0, NAN, 10.0, 30_000.0), (T0 + 930, 5.2, NAN, 10.0, 30_000.0)]}
    got = ledger_points(rows)
    assert [(p.node_id, p.ts) for p in got] == [("m", T0 + 870), ("m", T0 + 900)]
    assert [p.kwh for p in got] == pytest.approx([0.1, 0.1])


def test_a_pair_that_counts_nothing_still_has_its_pieces_at_zero() -> None:
    # Power every 10 s, then 40 minutes of silence (more than 3 intervals): the gap counts 0, but
    # its pieces are written, so they overwrite whatever a pair there held before.
    rows = {"w": [(T0 + 890, NAN, 1000.0, 10.0, 30_000.0), (T0 + 900, NAN, 1000.0, 10.0, 30_000.0),
                  (T0 + 3300, NAN, 1000.0, 10.0, 30_000.0)]}
    got = ledger_points(rows)
    assert [(p.ts, p.kwh) for p in got] == [
        (T0 + 890, pytest.approx(1000.0 * 10 / 3.6e6)),
        (T0 + 900, 0.0),
        (T0 + 1800, 0.0),
        (T0 + 2700, 0.0),
    ]


def test_split_keeps_each_piece_in_its_quarter_and_spread_sums_them() -> None:
    rng = np.random.default_rng(5)
    t0 = np.sort(rng.integers(T0, T0 + 86_400, 200))
    t1 = t0 + rng.integers(1, 20_000, 200)
    kwh = rng.uniform(0, 2, 200)
    series = np.zeros(200, dtype=np.int64)
    _, start, share = split(series, t0, t1, kwh)
    owner = np.repeat(np.arange(200), (t1 - 1) // QUARTER_S - t0 // QUARTER_S + 1)
    first = np.r_[True, owner[1:] != owner[:-1]]
    assert np.array_equal(start[first], t0)  # a pair's first piece starts at its first reading
    assert np.all(start[~first] % QUARTER_S == 0)  # the others at a quarter boundary,
    assert np.all(np.diff(start // QUARTER_S)[~first[1:]] == 1)  # one per quarter it spans
    assert np.all(start < t1[owner])
    np.testing.assert_allclose(np.bincount(owner, share), kwh)
    _, bucket, total = spread(series, t0, t1, kwh)
    sums = defaultdict(float)
    for b, s in zip((start // QUARTER_S * QUARTER_S).tolist(), share.tolist(), strict=True):
        sums[b] += s
    np.testing.assert_allclose(total, [sums[b] for b in bucket.tolist()])


def stored_row(ts: int, energy: float) -> EnergyRow:
    return (ts, energy, NAN, 10.0, 30_000.0)


def test_plan_writes_the_pairs_of_the_batch_and_only_those() -> None:
    # Stored a (T0) and b (T0 + 600), then c (T0 + 1200); a late reading x arrives at T0 + 300.
    window = Window(
        frozenset(),
        {"m": [stored_row(T0, 1.0), stored_row(T0 + 600, 1.6), stored_row(T0 + 1200, 1.7)]},
    )
    late = Reading("m", T0 + 300, energy=1.2)
    got = plan_ledger(window, [late], {}, [("m", T0 + 300)])
    assert [(p.ts, p.kwh) for p in got] == [
        (T0, pytest.approx(0.2)),  # a -> x replaces a -> b at the same stamp
        (T0 + 300, pytest.approx(0.4)),  # x -> b: a new stamp
    ]


def test_plan_rewrites_the_pairs_of_a_redelivered_reading() -> None:
    # The batch repeats the reading at T0 + 600 (with another value: the stored one wins, so
    # nothing is written for it) and its pair is written again from the stored values.
    window = Window(frozenset({("m", T0 + 600)}), {"m": [stored_row(T0, 1.0), stored_row(T0 + 600, 1.6)]})
    got = plan_ledger(window, [], {}, [("m", T0 + 600)])
    assert [(p.ts, p.kwh) for p in got] == [(T0, pytest.approx(0.6))]


def test_plan_uses_the_knobs_given_for_new_readings_and_the_stored_ones_for_stored() -> None:
    # 2 kWh in an hour is 2 kW: above a 1.5 kW bound (a glitch, 0), below the default.
    window = Window(frozenset(), {"g": [(T0, 1.0, NAN, 10.0, 1500.0)]})
    new = Reading("g", T0 + 3600, energy=3.0)
    strict = plan_ledger(window, [new], {"g": EnergyParams(max_power_w=1500.0)}, [("g", T0 + 3600)])
    loose = plan_ledger(window, [new], None, [("g", T0 + 3600)])
    assert sum(p.kwh for p in strict) == 0.0
    assert sum(p.kwh for p in loose) == pytest.approx(2.0)


def test_repair_puts_back_the_stored_pair_and_zeroes_stale_stamps() -> None:
    # x (T0 + 300) was sent with its ledger points but refused: the pieces a -> x and x -> b are
    # stored, x is not. The repair rewrites a -> b (which holds both stamps) and 0 at x.
    attempted = [LedgerPoint("m", T0, 0.2), LedgerPoint("m", T0 + 300, 0.4)]
    window = Window(frozenset(), {"m": [stored_row(T0, 1.0), stored_row(T0 + 600, 1.6)]})
    got = plan_repair(window, [("m", T0 + 300)], attempted)
    assert [(p.ts, p.kwh) for p in got] == [(T0, pytest.approx(0.6)), (T0 + 300, 0.0)]


def test_repair_of_a_node_without_stored_points_zeroes_everything_it_sent() -> None:
    got = plan_repair(Window(frozenset(), {}), [("n", T0)], [LedgerPoint("n", T0, 1.0)])
    assert got == [LedgerPoint("n", T0, 0.0)]


def test_reading_rows_keep_only_finite_energy_and_power() -> None:
    assert reading_row(Reading("n", T0, voltage=230.0), None) is None
    ts, energy, power, interval, bound = reading_row(Reading("n", T0, power=5.0, energy=math.inf), None)  # type: ignore[misc]
    assert (ts, power, interval, bound) == (T0, 5.0, 10.0, 30_000.0) and math.isnan(energy)


def test_clusters_split_where_the_batch_has_a_long_gap() -> None:
    readings = [
        Reading("a", T0 + 10, voltage=1.0),
        Reading("b", T0, voltage=1.0),
        Reading("a", T0 + 910, voltage=1.0),  # 900 s after the previous: same cluster
        Reading("b", T0 - 86_400 * 30, voltage=1.0),  # a month late: its own cluster
        Reading("a", T0 + 1811, voltage=1.0),  # 901 s after: a new cluster
    ]
    assert clusters(readings) == [
        Cluster(T0 - 86_400 * 30, T0 - 86_400 * 30 + 1, ("b",)),
        Cluster(T0, T0 + 911, ("b", "a")),
        Cluster(T0 + 1811, T0 + 1812, ("a",)),
    ]
    assert clusters([]) == []


def test_runs_group_periods_of_equal_length() -> None:
    hour, day = 3600, 86_400
    assert runs([T0, T0 + hour, T0 + 2 * hour, T0 + 3 * hour]) == [Run(T0, T0 + 3 * hour, hour)]
    # Madrid, 28-30 March 2026: a 23-hour day between two 24-hour ones.
    madrid = [T0 - hour, T0 - hour + day, T0 - hour + 2 * day - hour, T0 - 2 * hour + 3 * day]
    assert runs(madrid) == [
        Run(madrid[0], madrid[1], day),
        Run(madrid[1], madrid[2], day - hour),
        Run(madrid[2], madrid[3], day),
    ]
    assert runs([T0]) == []
