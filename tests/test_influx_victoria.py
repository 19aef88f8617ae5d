"""InfluxStore's write path against a real server nobody here wrote (victoria-metrics).

What InfluxStore sends must be stored as exactly these series, fields and timestamps, and an
outage in the middle of a stream must lose nothing: a batch is reported written only once the
server took it, and the retried batch lands after the restart.
"""

from __future__ import annotations

import math
import random

import pytest

from enertrack.energy import EnergyParams
from enertrack.magnitudes import NAMES
from enertrack.store.base import StoreUnavailable, WriteResult
from enertrack.telemetry.reading import Reading
from tests.victoria import Victoria, expected_samples

pytest_plugins = ["tests.victoria"]  # the victoria fixture

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
