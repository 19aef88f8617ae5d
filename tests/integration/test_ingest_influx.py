"""The daemon's write path into InfluxDB line protocol, against a server nobody here wrote.

A real `ingest.py` process, a private Mosquitto and Debian's victoria-metrics (which takes
InfluxDB v2 writes and shows what it stored). What the nodes publish must come out as exactly
those series, fields and timestamps; with the server stopped mid-stream the daemon must
acknowledge nothing (the broker counts the daemon's PUBACKs in its debug log) and, once the
server is back, store the whole backlog: nothing lost, nothing doubled (victoria-metrics keeps
a repeated sample, so a doubled reading would show in the export).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import MAGNITUDES
from enertrack.core.reading import Reading
from tests.ingest_process import IngestProcess, Stream, make_users_db
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, broker_fixture
from tests.victoria import Sample, Victoria, expected_samples

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

NODES = ["vm-1", "vm-2"]
USERS = {INGEST_USER: INGEST_PASSWORD, "vm-1": "vm-1-password", "vm-2": "vm-2-password"}
CLIENT_ID = "enertrack-ingest-vm"
PARAMS = {node: EnergyParams(interval_s=10) for node in NODES}  # make_users_db's interval


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from broker_fixture(tmp_path_factory, users=dict(USERS), log_all=True)


@pytest.fixture
def ingest(tmp_path: Path, broker: Broker, victoria: Victoria) -> Iterator[IngestProcess]:
    process = IngestProcess(tmp_path, broker, extra_env={
        **victoria.settings_env(), "MQTT_CLIENT_ID": CLIENT_ID,
        # Small batches: every stream below spans many writes (and many acks).
        "INGEST_BATCH_SIZE": "50", "INGEST_BATCH_MS": "50",
    })
    make_users_db(process.users_url, NODES)
    yield process
    process.kill()


class VariedPayloads:
    """One node's payloads: each reading a different subset of fields, by name or by alias."""

    def __init__(self, node: str, seed: int) -> None:
        self.node = node
        self.rng = random.Random(seed)
        self.meant: dict[int, Reading] = {}  # ts -> the reading its payload means

    def __call__(self, ts: int, _i: int) -> str:
        chosen = [m for m in MAGNITUDES if self.rng.random() < 0.6] or [MAGNITUDES[2]]
        values = {m.name: round(self.rng.uniform(m.minimum, m.maximum), self.rng.choice([0, 2, 5]))
                  for m in chosen}
        self.meant[ts] = Reading(self.node, ts, **values)
        return json.dumps({"ts": ts, **{(m.alias if self.rng.random() < 0.5 else m.name): values[m.name]
                                        for m in chosen}})


def wait_exported(victoria: Victoria, want: dict[tuple[str, str], list[Sample]], timeout: float = 60) -> dict:
    """The export once it holds at least as many samples as want (or when timeout is up)."""
    deadline = time.monotonic() + timeout
    total = sum(len(s) for s in want.values())
    while True:
        got = victoria.export()
        if sum(len(s) for s in got.values()) >= total or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def publish_varied(broker: Broker, count: int, start_ts: int, seed: int) -> list[Reading]:
    """count readings per node, published by one thread per node; the Readings they mean."""
    streams = [Stream(broker, count, [node], rate=1000, start_ts=start_ts, payload=VariedPayloads(node, seed + i))
               for i, node in enumerate(NODES)]
    for stream in streams:
        stream.thread.start()
    for stream in streams:
        stream.join()
    return [r for stream in streams for r in stream.payload.meant.values()]  # type: ignore[attr-defined]


def test_published_readings_are_stored_as_exactly_these_series_fields_and_timestamps(
    broker: Broker, ingest: IngestProcess, victoria: Victoria
) -> None:
    ingest.start()
    meant = publish_varied(broker, 150, int(time.time()) - 600, seed=5)
    want = expected_samples(meant, PARAMS)
    assert wait_exported(victoria, want) == want
    assert ingest.stop() == 0
    totals = ingest.wait_for(r"totals: .*").group(0)
    assert f"stored {len(meant)}," in totals and "rejected 0" in totals and "store retries 0" in totals
    assert broker.pubacks_from(CLIENT_ID) == len(meant)  # every message acknowledged, once


def test_server_down_mid_stream_nothing_is_acked_until_it_returns_then_the_backlog_drains(
    broker: Broker, ingest: IngestProcess, victoria: Victoria
) -> None:
    ingest.start()
    stream = Stream(broker, 1500, NODES, rate=1000)
    readings = [Reading(node, ts, voltage=230.0, power=float(ts - stream.base), energy=(ts - stream.base) / 1000)
                for node, ts in stream.expected]
    want = expected_samples(readings, PARAMS)
    with stream:
        deadline = time.monotonic() + 30
        while len(victoria.export().get(("energy_power", "vm-1"), [])) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        victoria.stop()  # mid-stream: the publishers go on, the broker keeps what it cannot deliver
        ingest.wait_for(r"store unavailable for \d+ s .*holding \d+ messages unacknowledged", timeout=30)
        time.sleep(0.5)  # acks of the last batch written before the outage may still be on the wire
        acked_at_outage = broker.pubacks_from(CLIENT_ID)
    time.sleep(2)  # the whole stream is now with the broker (each publish waited for its PUBACK)
    assert broker.pubacks_from(CLIENT_ID) == acked_at_outage  # nothing acknowledged while down
    assert 0 < acked_at_outage < len(stream.expected)
    victoria.start()
    ingest.wait_for(r"store available again after \d+ s; draining the backlog", timeout=30)
    assert wait_exported(victoria, want) == want  # every reading once: nothing lost, nothing doubled
    assert ingest.stop() == 0
    assert broker.pubacks_from(CLIENT_ID) == len(stream.expected)
    totals = ingest.wait_for(r"totals: .*").group(0)
    assert f"stored {len(stream.expected)}," in totals and "duplicates 0," in totals
