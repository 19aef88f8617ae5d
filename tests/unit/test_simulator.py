"""The simulator's readings: deterministic, in range, physically consistent, shaped like real loads."""

from __future__ import annotations

import importlib
import importlib.util
from datetime import UTC, datetime

import numpy as np
import pytest

from enertrack.core.columns import ReadingColumns
from enertrack.core.magnitudes import MAGNITUDES, NAMES
from enertrack.simulation.characters import CHARACTERS, ROTATION
from enertrack.simulation.clock import DAY_S, local_time
from enertrack.simulation.fleet import (
    DEFAULT_RESET_PER_DAY,
    DEFAULT_SEED,
    NodeSpec,
    make_fleet,
    make_spec,
    node_ids,
)
from enertrack.simulation.grid import GRIDS
from enertrack.simulation.meter import NodeSimulator, reset_times, signals
from enertrack.simulation.publisher import payloads
from tests.services import need

START = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())  # a Monday
J_PER_KWH = 3_600_000.0
WH_KWH = 0.001  # the counter's resolution: one watt-hour


def fleet(
    seed: int = DEFAULT_SEED, count: int = len(ROTATION), grid: str = "230v50",
    reset_per_day: float = DEFAULT_RESET_PER_DAY,
) -> list[NodeSpec]:
    """A fleet big enough to hold every kind of installation."""
    return make_fleet(seed, node_ids(count, "t-"), GRIDS[grid], reset_per_day=reset_per_day)


def run(spec: NodeSpec, days: float, interval: int = 60, start: int = START) -> ReadingColumns:
    """Every reading of one node over days, in one call."""
    return NodeSimulator(spec, interval, start).take(int(days * DAY_S) // interval)


def same(a: ReadingColumns, b: ReadingColumns) -> None:
    np.testing.assert_array_equal(a.ts, b.ts)
    for name in NAMES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# -- determinism ------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_readings() -> None:
    for a, b in zip(fleet(), fleet(), strict=True):
        same(run(a, 2), run(b, 2))


def test_another_seed_gives_other_readings() -> None:
    a, b = run(fleet(seed=1)[0], 1), run(fleet(seed=2)[0], 1)
    assert not np.array_equal(a.power, b.power)


def test_every_node_of_a_fleet_is_different() -> None:
    powers = [run(spec, 1).power for spec in fleet()]
    assert len({p.tobytes() for p in powers}) == len(powers)


def test_chunks_give_exactly_what_one_call_gives() -> None:
    # Frequent restarts so that chunk edges fall near them too.
    spec = fleet(reset_per_day=0.5)[0]
    whole = run(spec, 20)
    sim = NodeSimulator(spec, 60, START)
    parts = [sim.take(n) for n in (1, 7, 1000, 3, 9999, 4321)]
    parts.append(sim.take(len(whole) - sum(len(p) for p in parts)))
    joined = ReadingColumns(spec.node_id, np.concatenate([p.ts for p in parts]),
                     *(np.concatenate([getattr(p, name) for p in parts]) for name in NAMES))
    same(whole, joined)


def test_live_readings_continue_the_backfill() -> None:
    spec = fleet()[1]
    sim = NodeSimulator(spec, 10, START)
    history = list(sim.chunks(START + DAY_S - 10, 5000))
    live = sim.take(3)
    assert sum(len(c) for c in history) == DAY_S // 10
    assert live.ts.tolist() == [START + DAY_S, START + DAY_S + 10, START + DAY_S + 20]
    assert history[-1].energy[-1] <= live.energy[0] <= live.energy[-1]


def test_a_node_continues_from_a_given_counter() -> None:
    sim = NodeSimulator(fleet(reset_per_day=0)[0], 60, START, energy_kwh=1234.5)
    readings = sim.take(60)
    assert 1234.5 <= readings.energy[0] < 1234.6
    assert np.all(np.diff(readings.energy) >= 0)


# -- ranges: every magnitude, every kind of node, a whole year -----------------------------------


@pytest.mark.parametrize("grid", ["230v50", "120v60"])
def test_a_year_of_every_kind_passes_validation(grid: str) -> None:
    supply = GRIDS[grid]
    for spec in fleet(grid=grid):
        readings = run(spec, 365, interval=300)
        for magnitude in MAGNITUDES:
            values = getattr(readings, magnitude.name)
            assert np.all(np.isfinite(values)), magnitude.name
            assert magnitude.minimum <= values.min() and values.max() <= magnitude.maximum, (
                spec.character.name, magnitude.name, values.min(), values.max())
        low, high = supply.voltage_bounds
        assert low <= readings.voltage.min() and readings.voltage.max() <= high
        low, high = supply.frequency_bounds
        assert low - 1e-9 <= readings.frequency.min() and readings.frequency.max() <= high + 1e-9
        assert 0.80 <= readings.power_factor.min() and readings.power_factor.max() <= 0.99
        assert readings.power.min() > 0


def test_the_rotation_covers_every_kind() -> None:
    assert {spec.character.name for spec in fleet()} == set(CHARACTERS)
    for character in CHARACTERS.values():
        for curve in character.curves:
            assert len(curve) == 24 and all(0 <= v <= 1 for v in curve), character.name


def test_readings_carry_the_canonical_fields() -> None:
    readings = run(fleet()[0], 0.01)
    payload = payloads(readings)[0]
    assert list(payload) == ["ts", *NAMES]
    assert isinstance(payload["ts"], int) and payload["ts"] == START
    reading = readings.readings()[0]
    assert reading.node_id == "t-01" and reading.values() == {name: payload[name] for name in NAMES}


# -- physics ---------------------------------------------------------------------------------------


def test_power_is_voltage_times_current_times_power_factor() -> None:
    for spec in fleet(grid="230v50") + fleet(grid="120v60"):
        r = run(spec, 30)
        # The current is computed from the rounded V, P and PF and then rounded to 1 mA,
        # so P and V x I x PF differ by at most half a milliamp's worth of power.
        tolerance = 0.0005 * r.voltage * r.power_factor + 1e-9
        assert np.all(np.abs(r.power - r.voltage * r.current * r.power_factor) <= tolerance)


def test_the_counter_is_the_integral_of_the_power() -> None:
    spec = fleet(reset_per_day=0.0)[2]
    r = run(spec, 30)
    step = np.diff(r.ts)
    trapezoid_kwh = (r.power[:-1] + r.power[1:]) / 2 * step / J_PER_KWH
    shown = np.diff(r.energy)
    # The counter shows whole watt-hours of an exact integral: each increment is off by
    # less than 1 Wh, and the total never drifts by more than 1 Wh however long the run.
    assert np.all(shown >= 0)
    assert np.max(np.abs(shown - trapezoid_kwh)) < WH_KWH + 1e-9
    assert abs(shown.sum() - trapezoid_kwh.sum()) < WH_KWH + 1e-9
    assert shown.sum() > 10  # a month of any installation is more than 10 kWh


def test_the_counter_only_falls_when_the_meter_restarts() -> None:
    spec = fleet(reset_per_day=0.2)[0]
    r = run(spec, 60)
    restarts = reset_times(spec, START // DAY_S, int(r.ts[-1]) // DAY_S)
    restarts = restarts[(restarts > START - 60) & (restarts <= r.ts[-1])]
    assert restarts.size >= 5
    restarted = np.zeros(len(r), dtype=bool)
    restarted[np.searchsorted(r.ts, restarts)] = True
    falls = np.flatnonzero(np.diff(r.energy) < 0) + 1
    assert set(falls) <= set(np.flatnonzero(restarted))
    # Right after a restart the counter holds at most one interval of energy.
    biggest_interval_kwh = r.power.max() * 60 / J_PER_KWH
    assert np.all(r.energy[restarted] <= biggest_interval_kwh + WH_KWH)
    between = ~restarted[1:]
    trapezoid_kwh = (r.power[:-1] + r.power[1:]) / 2 * 60 / J_PER_KWH
    assert np.max(np.abs(np.diff(r.energy)[between] - trapezoid_kwh[between])) < WH_KWH + 1e-9


def test_the_demo_shows_a_restart_within_90_days() -> None:
    # The demo's five nodes with the default probability, for 90-day windows ending on any
    # day of 2026-2027: at least one node's meter restarts in every window.
    specs = make_fleet(DEFAULT_SEED, node_ids(5), reset_per_day=DEFAULT_RESET_PER_DAY)
    first = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) // DAY_S
    restarts = [reset_times(spec, first - 90, first + 730) // DAY_S for spec in specs]
    for end in range(first, first + 730):
        assert any(np.any((days > end - 90) & (days <= end)) for days in restarts), end


# -- shape of the load -------------------------------------------------------------------------------


def hourly(readings: ReadingColumns, timezone: str, weekend: bool | None = None) -> np.ndarray:
    """Mean power per local hour (optionally weekdays or weekends only)."""
    when = local_time(readings.ts, timezone)
    keep = np.ones(len(readings), dtype=bool) if weekend is None else when.weekend == weekend
    hour = when.hour.astype(int)
    return np.array([readings.power[keep & (hour == h)].mean() for h in range(24)])


def test_a_house_uses_least_at_night_and_most_in_the_evening() -> None:
    for spec in [s for s in fleet(count=16) if s.character.name == "house"]:
        profile = hourly(run(spec, 28), spec.timezone)
        assert profile[2:5].mean() < 0.5 * profile[19:23].mean(), spec.node_id
        assert profile[7:9].mean() > profile[2:5].mean() * 1.5  # the morning peak


def test_schools_and_offices_work_on_weekdays() -> None:
    for spec in [s for s in fleet(count=16) if s.character.name in ("school", "office")]:
        readings = run(spec, 28)
        weekday, weekend = hourly(readings, spec.timezone, False), hourly(readings, spec.timezone, True)
        assert weekday[10:13].mean() > 3 * weekend[10:13].mean(), spec.node_id


def test_appliances_make_short_spikes() -> None:
    spec = next(s for s in fleet() if s.character.name == "house")
    r = run(spec, 7, interval=10)
    median = np.median(r.power)
    spiking = r.power > median + 1500
    assert r.power.max() > 3 * median
    assert 0 < spiking.mean() < 0.05  # spikes are there, and rare
    starts = np.flatnonzero(np.diff(spiking.astype(int)) == 1)
    assert len(starts) >= 7  # more than one a day


def test_power_factor_rises_with_resistive_load() -> None:
    spec = next(s for s in fleet() if s.character.name == "house")
    r = run(spec, 28)
    quiet, busy = r.power < np.quantile(r.power, 0.5), r.power > np.quantile(r.power, 0.99)
    assert r.power_factor[busy].mean() > r.power_factor[quiet].mean() + 0.03


def test_the_120v_grid_is_120v_60hz() -> None:
    for spec in fleet(grid="120v60"):
        r = run(spec, 7)
        assert 116.4 <= r.voltage.min() and r.voltage.max() <= 123.6
        assert 59.95 <= r.frequency.min() and r.frequency.max() <= 60.05
        assert abs(r.frequency.mean() - 60) < 0.01 and abs(r.voltage.mean() - 120) < 2.5


def test_nodes_of_a_seed_share_the_grid_frequency() -> None:
    a, b = (run(spec, 1) for spec in fleet()[:2])
    # Same grid, so the same wander: only the 0.01 Hz measurement noise separates them.
    assert np.max(np.abs(a.frequency - b.frequency)) <= 0.025
    assert np.corrcoef(a.frequency, b.frequency)[0, 1] > 0.9


def test_voltage_sags_at_the_evening_peak() -> None:
    spec = make_spec(DEFAULT_SEED, "t-01", 0)
    readings = run(spec, 28)
    when = local_time(readings.ts, spec.timezone)
    hour = when.hour.astype(int)
    assert readings.voltage[(hour >= 2) & (hour < 5)].mean() > readings.voltage[(hour >= 19) & (hour < 22)].mean()


# -- local time ---------------------------------------------------------------------------------------


def test_local_time_follows_daylight_saving() -> None:
    change = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp())  # 02:00 CET becomes 03:00 CEST
    when = local_time(np.array([change - 60, change, change + 3600]), "Europe/Madrid")
    np.testing.assert_allclose(when.hour, [1 + 59 / 60, 3.0, 4.0])
    assert when.weekday.tolist() == [6, 6, 6]  # a Sunday


def test_local_time_with_a_quarter_hour_offset() -> None:
    midnight_utc = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())
    when = local_time(np.array([midnight_utc]), "Asia/Kathmandu")
    np.testing.assert_allclose(when.hour, [5.75])


def test_signals_depend_only_on_the_instant() -> None:
    spec = fleet()[3]
    ts = START + np.arange(0, 7200, 60)
    every = signals(spec, ts)
    alone = signals(spec, ts[37:38])
    assert alone.power[0] == every.power[37] and alone.voltage[0] == every.voltage[37]


def test_the_ingest_accepts_every_simulated_payload() -> None:
    need(importlib.util.find_spec("enertrack.ingest.payload") is not None,
         "the ingest's payload rules (branch ingest) are not merged yet")
    payload_rules = importlib.import_module("enertrack.ingest.payload")
    from enertrack.simulation.publisher import encode

    now = START + 365 * DAY_S
    for grid in ("230v50", "120v60"):
        for spec in fleet(grid=grid):
            readings = run(spec, 365, interval=3600, start=START + 3600)
            for payload in payloads(readings):
                outcome = payload_rules.parse_telemetry(spec.node_id, encode(payload), now)
                assert isinstance(outcome, payload_rules.Accepted), outcome
                assert outcome.reading.ts == payload["ts"]
                assert outcome.reading.values() == {name: payload[name] for name in NAMES}
