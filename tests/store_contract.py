"""The contract every TimeseriesStore meets: subclass StoreContract and provide a `store` fixture.

The fixture yields a fresh, empty store. Every expected value here is computed
independently of the stores (by hand, by plain pandas over the raw readings, or by the
pure rules in enertrack.core.energy), so two stores that pass give the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from enertrack.core.energy import J_PER_KWH, EnergyParams, Points, bucket_energy
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import (
    ENERGY_COLUMNS,
    SERIES_COLUMNS,
    Extreme,
    RangeSummary,
    TimeseriesStore,
    WriteResult,
    bucket_width,
)

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a UTC midnight
HOUR = 3600
DAY = 86400


# -- independent references --------------------------------------------------------------------


def meter(node: str, start: int, count: int, step: int, seed: int = 1) -> list[Reading]:
    """A plausible meter: every magnitude, a rising counter, noisy values."""
    rng = random.Random(seed)
    out: list[Reading] = []
    energy = 100.0
    for i in range(count):
        power = rng.uniform(50.0, 3000.0)
        energy += power * step / J_PER_KWH
        out.append(
            Reading(
                node,
                start + i * step,
                voltage=round(rng.uniform(225.0, 235.0), 1),
                current=round(power / 230.0, 3),
                power=round(power, 1),
                energy=round(energy, 6),
                power_factor=round(rng.uniform(0.8, 0.99), 2),
                frequency=round(rng.uniform(49.95, 50.05), 2),
            )
        )
    return out


def expected_series(
    readings: Sequence[Reading], magnitude: str, start: int, end: int, width: int
) -> pd.DataFrame:
    """Buckets of `width` seconds over [start, end) computed with plain pandas from raw readings."""
    frame = pd.DataFrame(
        [
            (r.ts, getattr(r, magnitude))
            for r in readings
            if start <= r.ts < end and getattr(r, magnitude) is not None
        ],
        columns=["ts", "value"],
    )
    frame["ts"] = frame["ts"] // width * width
    out = frame.groupby("ts")["value"].agg(["min", "max", "mean", "count"]).reset_index()
    return out[SERIES_COLUMNS]


def reference_energy(
    readings: Sequence[Reading],
    params: Mapping[str, EnergyParams],
    bucket_s: int,
    written_with: Mapping[tuple[str, int], EnergyParams] | None = None,
) -> dict[tuple[str, int], float]:
    """kWh per (node, bucket) from all readings by the pure rules: the store-free truth.

    Each pair counts with the parameters of its later reading: those it was written with
    (`written_with`, by (node, ts)) when given, else the node's in `params`.
    """
    nodes = sorted({r.node_id for r in readings})
    unique = {(r.node_id, r.ts): r for r in reversed(readings)}  # first occurrence of (node, ts)
    rows = sorted(
        (nodes.index(r.node_id), r.ts, r)
        for r in unique.values()
        if r.energy is not None or r.power is not None
    )
    knobs = written_with or {}
    p = [
        knobs.get((nodes[code], ts), params.get(nodes[code], EnergyParams()))
        for code, ts, _ in rows
    ]
    points = Points(
        np.array([code for code, _, _ in rows], dtype=np.int64),
        np.array([ts for _, ts, _ in rows], dtype=np.int64),
        np.array([np.nan if r.energy is None else r.energy for _, _, r in rows]),
        np.array([np.nan if r.power is None else r.power for _, _, r in rows]),
        np.array([x.interval_s for x in p], dtype=np.float64),
        np.array([x.max_power_w for x in p], dtype=np.float64),
    )
    series, bucket, kwh = bucket_energy(points, bucket_s)
    return {(nodes[s], int(b)): float(k) for s, b, k in zip(series, bucket, kwh, strict=True)}


def write_noting_params(
    store: TimeseriesStore,
    batch: Sequence[Reading],
    params: Mapping[str, EnergyParams],
    written_with: dict[tuple[str, int], EnergyParams],
) -> None:
    """Write a batch and note the parameters each reading is stored with (the first write wins)."""
    store.write(batch, params)
    for r in batch:
        written_with.setdefault((r.node_id, r.ts), params.get(r.node_id, EnergyParams()))


def energy_by_period(frame: pd.DataFrame) -> dict[tuple[str, int], float]:
    """An ENERGY_COLUMNS frame as {(node_id, period_start): kWh}."""
    assert list(frame.columns) == ENERGY_COLUMNS
    return {(str(n), int(p)): float(k) for n, p, k in frame.itertuples(index=False)}


def assert_energy_equal(
    got: Mapping[tuple[str, int], float], want: Mapping[tuple[str, int], float]
) -> None:
    """Same periods (ignoring ones below 1e-9 kWh) and the same kWh within 1e-9."""
    want = {k: v for k, v in want.items() if abs(v) > 1e-9}
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def local_midnights(zone: str, first: str, days: int) -> list[int]:
    """Epoch seconds of `days + 1` consecutive local midnights from `first` (YYYY-MM-DD)."""
    tz = ZoneInfo(zone)
    day = date.fromisoformat(first)
    return [
        int(datetime.combine(day + timedelta(days=d), time(), tzinfo=tz).timestamp())
        for d in range(days + 1)
    ]


# -- the suite -----------------------------------------------------------------------------------


class StoreContract:
    """Behaviour shared by every TimeseriesStore. Subclasses provide the `store` fixture."""

    # write ----------------------------------------------------------------------------------

    def test_is_a_timeseries_store(self, store: TimeseriesStore) -> None:
        assert isinstance(store, TimeseriesStore)

    def test_write_reports_stored_and_duplicates(self, store: TimeseriesStore) -> None:
        batch = meter("n1", T0, 5, 10)
        assert store.write(batch) == WriteResult(stored=5, duplicates=0)
        assert store.write(batch) == WriteResult(stored=0, duplicates=5)  # a QoS 1 redelivery
        assert list(store.readings("n1")) == batch

    def test_duplicates_inside_one_batch_are_stored_once(self, store: TimeseriesStore) -> None:
        one, two = meter("n1", T0, 2, 10)
        assert store.write([one, two, one, one]) == WriteResult(stored=2, duplicates=2)
        assert list(store.readings("n1")) == [one, two]

    def test_partly_new_batch_stores_only_the_new(self, store: TimeseriesStore) -> None:
        batch = meter("n1", T0, 6, 10)
        store.write(batch[:4])
        assert store.write(batch[2:]) == WriteResult(stored=2, duplicates=2)
        assert list(store.readings("n1")) == batch

    def test_empty_batch(self, store: TimeseriesStore) -> None:
        assert store.write([]) == WriteResult(stored=0, duplicates=0)

    def test_same_second_on_two_nodes_is_not_a_duplicate(self, store: TimeseriesStore) -> None:
        assert (
            store.write([Reading("a", T0, voltage=230.0), Reading("b", T0, voltage=231.0)]).stored
            == 2
        )

    # latest ---------------------------------------------------------------------------------

    def test_latest_is_the_newest_whatever_the_arrival_order(self, store: TimeseriesStore) -> None:
        a = meter("a", T0, 10, 10, seed=1)
        b = meter("b", T0, 10, 10, seed=2)
        store.write([a[9], b[3]])
        store.write(a[:9] + b[:3])
        assert store.latest(["a", "b", "never-seen"]) == {"a": a[9], "b": b[3]}

    def test_latest_keeps_missing_magnitudes_missing(self, store: TimeseriesStore) -> None:
        store.write(
            [Reading("a", T0, voltage=230.0, energy=5.0), Reading("a", T0 + 10, current=1.5)]
        )
        assert store.latest(["a"]) == {"a": Reading("a", T0 + 10, current=1.5)}

    def test_latest_of_nothing(self, store: TimeseriesStore) -> None:
        assert store.latest([]) == {}

    # readings -------------------------------------------------------------------------------

    def test_readings_oldest_first_in_half_open_range(self, store: TimeseriesStore) -> None:
        batch = meter("n1", T0, 20, 60)
        other = meter("n2", T0, 20, 60, seed=5)
        shuffled = batch + other
        random.Random(3).shuffle(shuffled)
        store.write(shuffled)
        assert list(store.readings("n1")) == batch
        assert list(store.readings("n1", T0 + 120, T0 + 600)) == batch[2:10]  # end exclusive
        assert list(store.readings("n1", start=T0 + 1080)) == batch[18:]
        assert list(store.readings("n1", end=T0 + 60)) == batch[:1]
        assert list(store.readings("n1", T0 + 600, T0 + 600)) == []
        assert list(store.readings("unknown")) == []

    def test_readings_with_a_subset_of_magnitudes(self, store: TimeseriesStore) -> None:
        subsets = [Reading("n1", T0 + i, **{name: float(i + 1)}) for i, name in enumerate(NAMES)]
        store.write(subsets)
        got = list(store.readings("n1"))
        assert got == subsets
        assert got[0].current is None and got[0].voltage == 1.0

    # series ---------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("offset", "span", "max_points"),
        [
            (0, HOUR, 2000),  # raw seconds: one bucket per reading
            (0, HOUR, 60),  # 60 s buckets from raw readings
            (437, 3 * DAY - 1234, 100),  # hourly buckets, edges not aligned to anything
            (123, 3 * DAY, 300),  # 15-minute buckets
            (5 * HOUR + 17, 2 * DAY + 7 * HOUR, 20),  # 3-hour buckets
            (-DAY - 555, 6 * DAY, 4),  # 2-day buckets (from a range that starts before the data)
        ],
    )
    def test_series_buckets_equal_plain_aggregation(
        self, store: TimeseriesStore, offset: int, span: int, max_points: int
    ) -> None:
        data = meter("n1", T0, 3 * DAY // 300, 300) + meter("n1", T0 + 10, HOUR // 20, 20, seed=9)
        store.write(data)
        start, end = T0 + offset, T0 + offset + span
        width = bucket_width(start, end, max_points)
        for magnitude in ("voltage", "power", "energy"):
            got = store.series("n1", magnitude, start, end, max_points)
            want = expected_series(data, magnitude, start, end, width)
            assert list(got.columns) == SERIES_COLUMNS
            assert len(got) <= max_points
            assert got["ts"].tolist() == want["ts"].tolist()
            assert (got["ts"] % width == 0).all()
            assert got["count"].tolist() == want["count"].tolist()
            for column in ("min", "max", "mean"):
                np.testing.assert_allclose(got[column], want[column], rtol=1e-12)

    def test_series_one_second_spike_survives_a_year_view(self, store: TimeseriesStore) -> None:
        data = [Reading("n1", T0 + i * 3600, power=500.0) for i in range(24 * 40)]
        data.append(Reading("n1", T0 + 17 * DAY + 1234, power=25_000.0))
        data.append(Reading("n1", T0 + 3 * DAY + 77, power=3.0))
        store.write(data)
        got = store.series("n1", "power", T0 - 200 * DAY, T0 + 165 * DAY, 500)
        assert got["max"].max() == 25_000.0
        assert got["min"].min() == 3.0
        assert got["count"].sum() == len(data)

    def test_series_counts_only_readings_that_carry_the_magnitude(
        self, store: TimeseriesStore
    ) -> None:
        store.write(
            [
                Reading("n1", T0 + i * 10, voltage=230.0 + i, current=1.0 if i % 2 else None)
                for i in range(6)
            ]
        )
        got = store.series("n1", "current", T0, T0 + 900, 1)
        assert got[["ts", "count", "mean"]].values.tolist() == [[T0, 3, 1.0]]

    def test_series_empty(self, store: TimeseriesStore) -> None:
        store.write(meter("n1", T0, 10, 60))
        for got in (
            store.series("n1", "voltage", T0 + DAY, T0 + 2 * DAY),
            store.series("n1", "voltage", T0 + 600, T0 + 600),
            store.series("unknown", "voltage", T0, T0 + DAY),
        ):
            assert list(got.columns) == SERIES_COLUMNS and got.empty

    def test_series_rejects_an_unknown_magnitude(self, store: TimeseriesStore) -> None:
        with pytest.raises(ValueError, match="magnitude"):
            store.series("n1", "voltage; DROP TABLE readings", T0, T0 + 60)

    # summary --------------------------------------------------------------------------------

    def test_summary_gives_the_exact_second_of_min_and_max(self, store: TimeseriesStore) -> None:
        data = [Reading("n1", T0 + i * 60, voltage=230.0) for i in range(3 * 24 * 60)]
        data += [
            Reading("n1", T0 + DAY + 5 * HOUR + 7, voltage=251.5),  # the maximum, off the 60-s grid
            Reading("n1", T0 + 2 * DAY + 30, voltage=190.25),  # the minimum
            Reading("n1", T0 + 2 * DAY + 31, voltage=190.25),  # a tie: the first one counts
            Reading("n1", T0 + 1, voltage=260.0),  # larger, but outside the ranges below
        ]
        store.write(data)
        got = store.summary("n1", "voltage", T0 + 10, T0 + 3 * DAY - 10)
        assert got.maximum == Extreme(251.5, T0 + DAY + 5 * HOUR + 7)
        assert got.minimum == Extreme(190.25, T0 + 2 * DAY + 30)
        assert got.last == Extreme(230.0, T0 + 3 * DAY - 60)
        edge = store.summary("n1", "voltage", T0 + 2 * DAY + 31, T0 + 2 * DAY + 90)
        assert edge == RangeSummary(
            Extreme(190.25, T0 + 2 * DAY + 31),
            Extreme(230.0, T0 + 2 * DAY + 60),
            Extreme(230.0, T0 + 2 * DAY + 60),
        )

    def test_summary_matches_the_raw_readings(self, store: TimeseriesStore) -> None:
        data = meter("n1", T0, 4 * DAY // 120, 120, seed=11)
        store.write(data)
        start, end = T0 + 3333, T0 + 3 * DAY + 4444
        inside = [r for r in data if start <= r.ts < end]
        for magnitude in ("power", "frequency"):
            values = [(getattr(r, magnitude), r.ts) for r in inside]
            low = min(values, key=lambda v: (v[0], v[1]))
            high = min(values, key=lambda v: (-v[0], v[1]))
            got = store.summary("n1", magnitude, start, end)
            assert got == RangeSummary(Extreme(*low), Extreme(*high), Extreme(*values[-1]))

    def test_summary_of_nothing(self, store: TimeseriesStore) -> None:
        store.write([Reading("n1", T0, current=1.0)])
        assert store.summary("n1", "voltage", T0 - DAY, T0 + DAY) == RangeSummary(None, None, None)
        assert store.summary("unknown", "voltage", T0, T0 + DAY) == RangeSummary(None, None, None)

    # energy ---------------------------------------------------------------------------------

    def test_energy_known_answers(self, store: TimeseriesStore) -> None:
        counter = [
            Reading("m", T0, energy=100.0),
            Reading("m", T0 + 1800, energy=101.0),  # 1 kWh in the first half hour
            Reading("m", T0 + 3600, energy=101.5),  # 0.5 kWh
            Reading("m", T0 + 5400, energy=0.2),  # the meter restarted: 0.2 kWh
            Reading("m", T0 + 7200, energy=50.0),  # 49.8 kWh in 30 min = 99.6 kW: a glitch, dropped
            Reading("m", T0 + 9000, energy=50.1),  # 0.1 kWh
        ]
        power = [
            Reading("p", T0, power=1000.0),
            Reading("p", T0 + 60, power=2000.0),  # (1000 + 2000) / 2 W x 60 s = 0.025 kWh
            Reading("p", T0 + 120, power=2000.0),  # 2000 W x 60 s = 0.0333... kWh
            Reading("p", T0 + 600, power=1000.0),  # 480 s > 3 x 60 s: not integrated
            Reading("p", T0 + 660, power=1000.0, voltage=230.0),  # 1000 W x 60 s = 0.01666... kWh
            Reading("p", T0 + 700, voltage=231.0),  # no power: not part of the rule
        ]
        store.write(counter + power, {"p": EnergyParams(interval_s=60)})
        got = energy_by_period(
            store.energy(["m", "p", "nobody"], [T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR])
        )
        assert got == pytest.approx(
            {("m", T0): 1.5, ("m", T0 + HOUR): 0.2, ("m", T0 + 2 * HOUR): 0.1, ("p", T0): 0.075},
            abs=1e-12,
        )

    def test_energy_splits_a_pair_across_periods_in_proportion_to_time(
        self, store: TimeseriesStore
    ) -> None:
        store.write([Reading("m", T0 + 2700, energy=10.0), Reading("m", T0 + 4500, energy=10.9)])
        got = energy_by_period(store.energy(["m"], [T0, T0 + 3600, T0 + 7200]))
        assert got == pytest.approx({("m", T0): 0.45, ("m", T0 + HOUR): 0.45}, abs=1e-12)

    def test_energy_per_node_glitch_bound(self, store: TimeseriesStore) -> None:
        pair = [Reading("x", T0, energy=1.0), Reading("x", T0 + 3600, energy=3.0)]  # 2 kW average
        store.write(
            pair + [Reading("y", r.ts, energy=r.energy) for r in pair],
            {"y": EnergyParams(max_power_w=1500.0)},
        )
        assert energy_by_period(store.energy(["x", "y"], [T0, T0 + DAY])) == pytest.approx(
            {("x", T0): 2.0}
        )

    def test_energy_of_a_constant_load_in_kathmandu_days(self, store: TimeseriesStore) -> None:
        # 1200 W reported every 60 s for three UTC days: 1.2 kWh per hour, exactly.
        store.write(
            [Reading("k", T0 + i * 60, power=1200.0) for i in range(3 * 24 * 60 + 1)],
            {"k": EnergyParams(60)},
        )
        midnights = local_midnights(
            "Asia/Kathmandu", "2026-01-01", 3
        )  # +05:45: 18:15 UTC the day before
        assert midnights[0] == T0 - 5 * HOUR - 45 * 60  # the first period holds 18.25 h of data
        got = energy_by_period(store.energy(["k"], midnights))
        assert got == pytest.approx(
            {
                ("k", midnights[0]): 1.2 * 18.25,
                ("k", midnights[1]): 1.2 * 24,
                ("k", midnights[2]): 1.2 * 24,
            },
            abs=1e-9,
        )

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_energy_same_whatever_the_arrival_order(
        self, store: TimeseriesStore, seed: int
    ) -> None:
        rng = random.Random(seed)
        data: list[Reading] = []
        energy = 500.0
        for i in range(2 * 24 * 60 // 2):  # two days every 120 s, with resets, glitches and gaps
            ts = T0 + 1800 + i * 120 + rng.randrange(0, 30)
            roll = rng.random()
            if roll < 0.02:
                energy = rng.uniform(0.0, 0.5)  # restarted meter
            elif roll < 0.03:
                data.append(Reading("c", ts, energy=energy + 500.0))  # glitch
                continue
            elif roll < 0.06:
                data.append(Reading("c", ts, voltage=230.0))  # no counter in this one
                continue
            energy += rng.uniform(0.0, 0.1)
            data.append(Reading("c", ts, energy=round(energy, 6), power=rng.uniform(0, 3000)))
        t = T0 + 7
        for _ in range(1500):  # a power-only node with gaps longer than 3 intervals
            t += rng.choice([10, 10, 10, 12, 25, 45])
            data.append(Reading("w", t, power=rng.uniform(0.0, 4000.0)))
        params = {
            "w": EnergyParams(interval_s=10),
            "c": EnergyParams(interval_s=120, max_power_w=20_000.0),
        }
        arrival = data + rng.sample(data, 40)  # redeliveries too
        rng.shuffle(arrival)
        while arrival:
            size = rng.choice([1, 2, 5, 20, 100, 700])
            store.write(arrival[:size], params)
            arrival = arrival[size:]

        quarters = list(range(T0, T0 + 3 * DAY + 1, 900))
        assert_energy_equal(
            energy_by_period(store.energy(["c", "w"], quarters)),
            reference_energy(data, params, 900),
        )
        days = [T0 - DAY, T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
        assert_energy_equal(
            energy_by_period(store.energy(["c", "w"], days)), reference_energy(data, params, DAY)
        )

    def test_a_late_reading_counts_with_the_parameters_each_reading_was_stored_with(
        self, store: TimeseriesStore
    ) -> None:
        low, high = {"m": EnergyParams(max_power_w=10_000.0)}, {"m": EnergyParams()}  # 10, 30 kW
        store.write([Reading("m", T0, energy=0.0), Reading("m", T0 + 1000, energy=5.0)], low)
        assert store.energy(["m"], [T0, T0 + HOUR]).empty  # 18 kW average: a glitch under 10 kW
        store.write([Reading("m", T0 + 500, energy=4.5)], high)  # buffered, after the bound rose
        # 0 -> 4.5 kWh in 500 s is 32.4 kW: a glitch under the 30 kW the late reading came with;
        # 4.5 -> 5 kWh is 3.6 kW, within the 10 kW of the reading at T0 + 1000: 0.5 kWh.
        got = energy_by_period(store.energy(["m"], [T0, T0 + HOUR]))
        assert got == pytest.approx({("m", T0): 0.5}, abs=1e-12)

    @pytest.mark.parametrize("seed", [1, 2])
    def test_energy_after_settings_changes_and_late_readings(
        self, store: TimeseriesStore, seed: int
    ) -> None:
        rng = random.Random(seed)
        data: list[Reading] = []
        energy, t = 50.0, T0 + 300
        for _ in range(700):  # a counter whose increments are often near the glitch bounds below
            t += rng.choice([30, 60, 60, 120, 400])
            energy = rng.uniform(0.0, 0.2) if rng.random() < 0.02 else energy + rng.uniform(0, 0.6)
            data.append(Reading("c", t, energy=round(energy, 6)))
        t = T0 + 11
        for _ in range(900):  # power only, with gaps around 3 x every interval below
            t += rng.choice([10, 10, 20, 35, 50, 70, 95])
            data.append(Reading("w", t, power=rng.uniform(0.0, 4000.0)))
        settings = [  # what users set, one after the other
            {"c": EnergyParams(60, 8_000.0), "w": EnergyParams(10)},
            {"c": EnergyParams(60, 20_000.0), "w": EnergyParams(30)},
            {"c": EnergyParams(120, 40_000.0), "w": EnergyParams(20)},
        ]
        arrival = data + rng.sample(data, 60)  # redeliveries too, possibly under other settings
        rng.shuffle(arrival)
        written_with: dict[tuple[str, int], EnergyParams] = {}
        phase = 0
        while arrival:
            if rng.random() < 0.3:
                phase += 1  # a user changes the node's settings between two batches
            size = rng.choice([1, 3, 10, 50, 200])
            write_noting_params(store, arrival[:size], settings[phase % 3], written_with)
            arrival = arrival[size:]
        assert phase >= 3

        quarters = list(range(T0, T0 + 2 * DAY + 1, 900))
        want = reference_energy(data, {}, 900, written_with)
        assert_energy_equal(energy_by_period(store.energy(["c", "w"], quarters)), want)
        days = [T0, T0 + DAY, T0 + 2 * DAY]
        want = reference_energy(data, {}, DAY, written_with)
        assert_energy_equal(energy_by_period(store.energy(["c", "w"], days)), want)

    def test_energy_rejects_unaligned_boundaries(self, store: TimeseriesStore) -> None:
        with pytest.raises(ValueError, match="15 minutes"):
            store.energy(["m"], [T0, T0 + 1000])
        with pytest.raises(ValueError, match="increasing"):
            store.energy(["m"], [T0 + 900, T0])

    def test_energy_without_energy_data(self, store: TimeseriesStore) -> None:
        store.write([Reading("v", T0 + i * 10, voltage=230.0) for i in range(10)])
        got = store.energy(["v", "unknown"], [T0, T0 + DAY])
        assert list(got.columns) == ENERGY_COLUMNS and got.empty
        assert store.energy([], [T0, T0 + DAY]).empty
        assert store.energy(["v"], [T0]).empty

    # delete ---------------------------------------------------------------------------------

    def test_delete_node_removes_everything_of_that_node_only(self, store: TimeseriesStore) -> None:
        gone = meter("gone", T0, 2 * DAY // 600, 600)
        kept = meter("kept", T0, 2 * DAY // 600, 600, seed=4)
        store.write(gone + kept)
        assert store.delete_node("gone") == len(gone)
        assert list(store.readings("gone")) == []
        assert store.latest(["gone", "kept"]) == {"kept": kept[-1]}
        assert store.series("gone", "power", T0, T0 + 2 * DAY).empty
        assert store.summary("gone", "power", T0, T0 + 2 * DAY) == RangeSummary(None, None, None)
        assert set(store.energy(["gone", "kept"], [T0, T0 + DAY, T0 + 2 * DAY])["node_id"]) == {
            "kept"
        }
        assert list(store.readings("kept")) == kept
        assert store.delete_node("gone") == 0
        assert store.delete_node("never-seen") == 0

    def test_a_deleted_node_starts_afresh(self, store: TimeseriesStore) -> None:
        data = meter("n1", T0, 10, 60)
        store.write(data)
        store.delete_node("n1")
        assert store.write(data[5:]) == WriteResult(stored=5, duplicates=0)
        assert list(store.readings("n1")) == data[5:]
        got = store.series("n1", "voltage", T0, T0 + DAY, 1)
        assert got["count"].tolist() == [5]
        want = reference_energy(data[5:], {}, DAY)
        assert_energy_equal(energy_by_period(store.energy(["n1"], [T0, T0 + DAY])), want)
