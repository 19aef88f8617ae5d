"""InfluxStore's write path against a real server nobody here wrote (victoria-metrics).

What InfluxStore sends must be stored as exactly these series, fields and timestamps, and an
outage in the middle of a stream must lose nothing: a batch is reported written only once the
server took it, and the retried batch lands after the restart. The energy ledger written with
the readings, as victoria-metrics parsed and stored it, must add up to the energy rules.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator

import pytest

from enertrack.core.energy import QUARTER_S, EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import StoreUnavailable, WriteResult
from enertrack.store.influx.ledger import LEDGER_FIELD, LEDGER_MEASUREMENT
from tests.store_contract import assert_energy_equal, energy_by_period, reference_energy
from tests.victoria import Victoria, VictoriaFront, expected_samples, ledger_samples

T = 1_767_225_600  # 2026-01-01T00:00:00Z
NODES = ["node-1", "casa norte", "a,b=c", "ñandú"]


def stream(count: int, seed: int = 7) -> list[Reading]:
    """Readings of every node with random subsets of magnitudes, some NaN, one per 10 s per node."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        node = NODES[i % len(NODES)]
        values = {
            name: round(rng.uniform(0.5, 250.0), rng.choice([0, 1, 3, 6]))
            for name in NAMES
            if rng.random() < 0.7
        }
        if rng.random() < 0.05:
            values["voltage"] = math.nan
        out.append(Reading(node, T + 10 * (i // len(NODES)), **values))
    return out


def test_a_batch_is_stored_as_exactly_these_series_fields_and_timestamps(
    victoria: Victoria,
) -> None:
    store = victoria.store()
    readings = [
        Reading(
            "casa norte",
            T,
            voltage=230.1,
            current=1.25,
            power=287.5,
            energy=12.5,
            power_factor=0.95,
            frequency=50.01,
        ),
        Reading("a,b=c", T + 1, power=1e-05, energy=123456.789012),
        Reading("ñandú", T + 2, voltage=229.0, frequency=math.nan),
        Reading("node-1", T + 3, current=None),  # nothing to write
        Reading("casa norte", T, voltage=999.0),  # same node and second: the first one stays
    ]
    params = {"casa norte": EnergyParams(interval_s=60, max_power_w=5000.0)}
    assert store.write(readings, params) == WriteResult(stored=3, duplicates=1)
    assert victoria.export() == expected_samples(readings, params)
    assert victoria.export()[("energy_voltage", "casa norte")] == [(T * 1000, 230.1)]
    store.close()


def test_a_stream_of_batches_arrives_whole(victoria: Victoria) -> None:
    store = victoria.store()
    readings = stream(2000)
    for i in range(0, len(readings), 100):
        store.write(readings[i : i + 100])
    assert victoria.export() == expected_samples(readings)
    store.close()


def test_an_outage_mid_stream_loses_nothing_and_acks_nothing_unstored(victoria: Victoria) -> None:
    store = victoria.store(timeout_ms=2000)
    readings = stream(1200, seed=11)
    batches = [readings[i : i + 60] for i in range(0, len(readings), 60)]
    acked: list[int] = []
    failures: list[str] = []
    for index, batch in enumerate(batches):
        if index == 8:
            victoria.stop()  # the store goes away between two batches of the stream
        while True:
            try:
                store.write(batch)
            except StoreUnavailable as exc:
                failures.append(str(exc))
                # Nothing after the outage was taken: the export (once back) must not have it yet.
                victoria.start()
                stored = victoria.export()
                assert all(
                    ms < batch[0].ts * 1000 for samples in stored.values() for ms, _ in samples
                )
                continue  # the daemon's retry of the same batch
            acked.append(index)
            break
    assert failures and "unreachable" in failures[0]
    assert acked == list(range(len(batches)))
    assert victoria.export() == expected_samples(readings)
    store.close()


def test_data_taken_before_a_restart_survives_it(victoria: Victoria) -> None:
    store = victoria.store()
    readings = stream(400, seed=3)
    store.write(readings)
    victoria.stop()
    victoria.start()
    assert victoria.export() == expected_samples(readings)
    store.close()


@pytest.mark.parametrize(
    "node_id", ["with space", "with,comma", "with=equals", "mixed ,= all", "back\\slash"]
)
def test_special_node_ids_come_back_intact(victoria: Victoria, node_id: str) -> None:
    store = victoria.store()
    store.write([Reading(node_id, T, power=42.0)])
    assert victoria.export() == {("energy_power", node_id): [(T * 1000, 42.0)]}
    store.close()


# -- the energy ledger -----------------------------------------------------------------------------

PARAMS = {"meter": EnergyParams(interval_s=60), "plug": EnergyParams(interval_s=10)}


def energy_history() -> list[Reading]:
    """Six hours of a counter node (a restart from zero, a glitch) and a power-only node with gaps."""
    rng = random.Random(21)
    out: list[Reading] = []
    energy = 1234.5
    for i in range(6 * 60):
        ts = T + 13 + i * 60
        if i == 100:
            energy = 0.02  # the meter restarted from zero: 0.02 kWh counted, never a negative
        elif i == 200:
            out.append(Reading("meter", ts, energy=round(energy + 300.0, 6), power=900.0))  # a glitch
            continue
        else:
            energy += rng.uniform(0.0, 0.05)
        power = round(rng.uniform(0, 3000), 1)  # victoria-metrics keeps 12 significant digits
        out.append(Reading("meter", ts, voltage=230.0, energy=round(energy, 6), power=power))
    t = T
    while t < T + 6 * 3600:
        t += rng.choice([10, 10, 10, 11, 40, 900])  # 40 s and 900 s: gaps not integrated
        out.append(Reading("plug", t, power=round(rng.uniform(0.0, 2000.0), 1)))
    return out


@pytest.fixture
def front(victoria: Victoria) -> Iterator[VictoriaFront]:
    server = VictoriaFront(victoria)
    yield server
    server.close()


@pytest.mark.parametrize("order", ["in order", "out of order", "with redeliveries"])
def test_the_ledger_stored_by_victoria_adds_up_to_the_rules(front: VictoriaFront, order: str) -> None:
    data = energy_history()
    rng = random.Random(len(order))
    arrival = sorted(data, key=lambda r: r.ts)
    if order != "in order":
        rng.shuffle(arrival)
    if order == "with redeliveries":
        arrival += rng.sample(data, 60)
        rng.shuffle(arrival)
    if order != "in order":  # the glitch last: its neighbours' pair is overwritten with zeros
        glitch = next(r for r in data if r.ts == T + 13 + 200 * 60)
        arrival = [r for r in arrival if r is not glitch] + [glitch]
    store = front.store()
    for i in range(0, len(arrival), 80):
        store.write(arrival[i : i + 80], PARAMS)

    export = front.victoria.export()
    readings = {key: samples for key, samples in export.items() if not key[0].startswith(LEDGER_MEASUREMENT)}
    assert readings == expected_samples(data, PARAMS)  # each reading once, the first one
    stored = ledger_samples(export)  # every sample victoria holds, overwritten ones too
    ledger = front.model.field(LEDGER_MEASUREMENT, LEDGER_FIELD)  # the last value of each stamp
    assert {(node, ms // 1000) for node, samples in stored.items() for ms, _ in samples} == set(ledger)
    if order == "in order":  # nothing to overwrite: victoria holds exactly the ledger
        assert {(node, ms // 1000): kwh for node, samples in stored.items() for ms, kwh in samples} == ledger
        assert sum(len(samples) for samples in stored.values()) == len(ledger)
    quarters: dict[tuple[str, int], float] = defaultdict(float)
    for (node, ts), kwh in ledger.items():
        quarters[(node, ts - ts % QUARTER_S)] += kwh
    assert_energy_equal(
        {key: kwh for key, kwh in quarters.items() if abs(kwh) > 1e-9}, reference_energy(data, PARAMS, QUARTER_S)
    )
    hours = list(range(T, T + 7 * 3600, 3600))
    assert_energy_equal(
        energy_by_period(store.energy(["meter", "plug"], hours)), reference_energy(data, PARAMS, 3600)
    )
    store.close()
