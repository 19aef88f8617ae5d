"""The energy rules (enertrack/core/energy.py): table-driven cases, splitting, vectorized == scalar."""

from __future__ import annotations

import math

import numpy as np
import pytest

from enertrack.core.energy import (
    J_PER_KWH,
    EnergyParams,
    Points,
    bucket_energy,
    pair_increments,
    pair_kwh,
    spread,
)

N = None
SLOW = EnergyParams(interval_s=60)
DEFAULT = EnergyParams()

# (case, t0, e0, p0, t1, e1, p1, params, expected kWh)
PAIRS = [
    ("counter increment", 0, 10.0, N, 60, 10.01, N, EnergyParams(), 0.01),
    ("counter flat", 0, 10.0, N, 60, 10.0, N, EnergyParams(), 0.0),
    ("reset: a decrease counts the new value", 0, 10.0, N, 60, 0.005, N, EnergyParams(), 0.005),
    ("reset to exactly zero", 0, 10.0, N, 60, 0.0, N, EnergyParams(), 0.0),
    ("glitch: 60 kW implied, dropped", 0, 10.0, N, 60, 11.0, N, EnergyParams(), 0.0),
    ("glitch after a reset: 0.6 kWh in 60 s = 36 kW", 0, 10.0, N, 60, 0.6, N, EnergyParams(), 0.0),
    ("2 kW average is plausible by default", 0, 1.0, N, 3600, 3.0, N, EnergyParams(), 2.0),
    (
        "per-node bound 1.5 kW drops the same pair",
        0,
        1.0,
        N,
        3600,
        3.0,
        N,
        EnergyParams(max_power_w=1500),
        0.0,
    ),
    (
        "implied power exactly at the bound is kept",
        0,
        1.0,
        N,
        3600,
        2.5,
        N,
        EnergyParams(max_power_w=1500),
        1.5,
    ),
    ("counter wins over power", 0, 5.0, 1000.0, 10, 5.001, 9000.0, EnergyParams(), 0.001),
    ("counter across a long gap still counts", 0, 5.0, N, 86400, 15.0, N, EnergyParams(), 10.0),
    ("power trapezoid", 0, N, 1000.0, 10, N, 2000.0, EnergyParams(), 1500.0 * 10 / J_PER_KWH),
    ("power at exactly 3 intervals", 0, N, 600.0, 180, N, 600.0, SLOW, 600.0 * 180 / J_PER_KWH),
    ("power gap longer than 3 intervals", 0, N, 600.0, 181, N, 600.0, SLOW, 0.0),
    (
        "counter on one side only: power used",
        0,
        5.0,
        1000.0,
        10,
        N,
        1000.0,
        EnergyParams(),
        1000.0 * 10 / J_PER_KWH,
    ),
    ("power on one side only", 0, N, 1000.0, 10, N, N, EnergyParams(), 0.0),
    ("nothing to integrate", 0, N, N, 10, N, N, EnergyParams(), 0.0),
    ("same second", 5, 1.0, N, 5, 2.0, N, EnergyParams(), 0.0),
]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def points(
    rows: list[tuple[int, int, float | None, float | None]], params: EnergyParams = DEFAULT
) -> Points:
    """Points from (series, ts, energy, power) rows already sorted by (series, ts)."""
    return Points(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([_nan(r[2]) for r in rows]),
        np.array([_nan(r[3]) for r in rows]),
        np.full(len(rows), float(params.interval_s)),
        np.full(len(rows), float(params.max_power_w)),
    )


Pair = tuple[
    str, int, float | None, float | None, int, float | None, float | None, EnergyParams, float
]


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0] for p in PAIRS])
def test_one_pair_scalar_and_vectorized(pair: Pair) -> None:
    _, t0, e0, p0, t1, e1, p1, params, expected = pair
    assert pair_kwh(t0, e0, p0, t1, e1, p1, params) == pytest.approx(expected, abs=1e-15)
    series, start, end, kwh = pair_increments(points([(7, t0, e0, p0), (7, t1, e1, p1)], params))
    assert series.tolist() == [7] and start.tolist() == [t0] and end.tolist() == [t1]
    assert kwh[0] == pytest.approx(expected, abs=1e-15)


def test_pairs_never_cross_series() -> None:
    series, t0, t1, kwh = pair_increments(
        points([(1, 0, 1.0, N), (1, 60, 1.01, N), (2, 120, 5.0, N), (2, 180, 5.02, N)])
    )
    assert series.tolist() == [1, 2] and t0.tolist() == [0, 120] and t1.tolist() == [60, 180]
    assert kwh == pytest.approx([0.01, 0.02])


def test_fewer_than_two_points() -> None:
    assert all(a.size == 0 for a in pair_increments(points([(1, 0, 1.0, N)])))
    assert all(a.size == 0 for a in bucket_energy(points([])))


# (case, t0, t1, kWh, bucket_s, expected {bucket: kWh})
SPLITS = [
    ("inside one quarter", 100, 200, 1.0, 900, {0: 1.0}),
    ("in proportion to time", 850, 1000, 1.5, 900, {0: 0.5, 900: 1.0}),
    ("ending exactly on a boundary stays in its bucket", 0, 900, 2.0, 900, {0: 2.0}),
    ("starting exactly on a boundary", 900, 1000, 2.0, 900, {900: 2.0}),
    ("over three quarters", 450, 2250, 1.8, 900, {0: 0.45, 900: 0.9, 1800: 0.45}),
    ("hourly buckets", 3000, 4200, 1.2, 3600, {0: 0.6, 3600: 0.6}),
    ("a negative delta splits the same way", 850, 1000, -1.5, 900, {0: -0.5, 900: -1.0}),
]


@pytest.mark.parametrize(
    ("case", "t0", "t1", "kwh", "bucket_s", "expected"), SPLITS, ids=[s[0] for s in SPLITS]
)
def test_spread(
    case: str, t0: int, t1: int, kwh: float, bucket_s: int, expected: dict[int, float]
) -> None:
    series, bucket, got = spread(
        np.array([3]), np.array([t0]), np.array([t1]), np.array([kwh]), bucket_s
    )
    assert series.tolist() == [3] * len(expected)
    assert dict(zip(bucket.tolist(), got.tolist(), strict=True)) == pytest.approx(
        expected, abs=1e-15
    )


def test_spread_sums_pairs_per_series_and_bucket_and_drops_zeros() -> None:
    series, bucket, kwh = spread(
        np.array([2, 1, 1, 1]),
        np.array([0, 0, 100, 300]),
        np.array([100, 100, 200, 400]),
        np.array([1.0, 0.25, 0.5, 0.0]),
    )
    assert list(zip(series.tolist(), bucket.tolist(), kwh.tolist(), strict=True)) == [
        (1, 0, 0.75),
        (2, 0, 1.0),
    ]


def test_bucket_energy_of_a_power_only_node() -> None:
    # 1 kW for 20 minutes reported every 60 s, then a gap, then 2 kW for 5 minutes.
    rows = [(1, t, N, 1000.0) for t in range(0, 1201, 60)] + [
        (1, t, N, 2000.0) for t in range(2000, 2301, 60)
    ]
    series, bucket, kwh = bucket_energy(points(rows, SLOW))
    assert dict(zip(bucket.tolist(), kwh.tolist(), strict=True)) == pytest.approx(
        {0: 1.0 * 900 / 3600, 900: 1.0 * 300 / 3600, 1800: 2.0 * 300 / 3600}
    )


def random_points(seed: int) -> Points:
    """Three series with resets, glitches, gaps, missing values and per-row parameters."""
    rng = np.random.default_rng(seed)
    n = 3000
    series = np.sort(rng.integers(0, 3, n))
    ts = np.zeros(n, dtype=np.int64)
    for s in range(3):
        mask = series == s
        ts[mask] = 1_767_225_600 + np.cumsum(
            rng.choice([1, 10, 10, 10, 30, 45, 400, 3600], mask.sum())
        )
    energy = np.cumsum(rng.uniform(0, 0.05, n)) + 100
    resets = rng.random(n) < 0.03
    energy[resets] = rng.uniform(
        0, 0.5, resets.sum()
    )  # restarted meters (and the jump back: glitches)
    energy[rng.random(n) < 0.02] += 500.0  # glitches
    energy[rng.random(n) < 0.3] = np.nan
    power = rng.uniform(0, 8000, n)
    power[rng.random(n) < 0.3] = np.nan
    interval = np.where(series == 1, 10.0, 60.0)
    bound = np.where(series == 2, 2000.0, 30_000.0)
    return Points(series, ts, energy, power, interval, bound)


@pytest.mark.parametrize("seed", range(5))
def test_vectorized_equals_the_scalar_reference(seed: int) -> None:
    pts = random_points(seed)
    series, t0, t1, kwh = pair_increments(pts)
    expected = []
    for i in range(len(pts) - 1):
        if pts.series[i] != pts.series[i + 1]:
            continue
        e0, e1, p0, p1 = (
            None if math.isnan(v) else float(v)
            for v in (pts.energy[i], pts.energy[i + 1], pts.power[i], pts.power[i + 1])
        )
        params = EnergyParams(int(pts.interval_s[i + 1]), float(pts.max_power_w[i + 1]))
        expected.append(pair_kwh(int(pts.ts[i]), e0, p0, int(pts.ts[i + 1]), e1, p1, params))
    assert len(kwh) == len(expected)
    np.testing.assert_allclose(kwh, expected, rtol=1e-12, atol=1e-15)
    assert (kwh > 0).sum() > 100 and (
        np.asarray(expected) == 0
    ).sum() > 100  # the data exercises both

    # Spreading only moves energy between buckets: per series, the totals are unchanged.
    b_series, _, b_kwh = bucket_energy(pts)
    for s in range(3):
        assert b_kwh[b_series == s].sum() == pytest.approx(kwh[series == s].sum(), rel=1e-12)
