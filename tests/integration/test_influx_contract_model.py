"""The shared store contract on InfluxStore, against the model of InfluxDB (no server needed).

tests/integration/test_store_influx_contract.py runs the same suite against a real InfluxDB v2 when one is
configured; none can be installed here, so this runs it through the real influxdb-client
against tests/fake_influx.py's InfluxModel, which stores points with InfluxDB's rules and
answers the store's own Flux. It checks EnerTrack's side (the ledger, the parsing, the
arithmetic), never that InfluxDB reads the Flux the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import install_model, serve
from tests.store_contract import StoreContract


class TestInfluxModelContract(StoreContract):
    """Every StoreContract test on InfluxStore, InfluxDB played by the model."""

    @pytest.fixture
    def store(self) -> Iterator[InfluxStore]:
        for fake in serve():
            install_model(fake)
            influx = InfluxStore(fake.url, "t", "o", "b", timeout_ms=30_000, read_chunk_s=2 * 86_400)
            yield influx
            influx.close()
