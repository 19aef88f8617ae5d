"""The shared store contract against a real InfluxDB v2, when one is configured.

Set ENERTRACK_TEST_INFLUX_URL, _TOKEN, _ORG and _BUCKET (a bucket this suite may empty: every
point of the ``energy`` and ``energy_ledger`` measurements in it is deleted before and after
each test). tests/integration/test_influx_contract_model.py runs the same suite against a model of InfluxDB. Without them
the suite is skipped with that reason, even in CI: no InfluxDB v2 server can be installed here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from influxdb_client import InfluxDBClient

from enertrack.store.influx.ledger import LEDGER_MEASUREMENT
from enertrack.store.influx.line_protocol import MEASUREMENT
from enertrack.store.influx.store import DELETE_START, DELETE_STOP, InfluxStore
from tests.store_contract import StoreContract

SETTINGS = ("URL", "TOKEN", "ORG", "BUCKET")
CONFIG = {name: os.environ.get(f"ENERTRACK_TEST_INFLUX_{name}", "") for name in SETTINGS}
MISSING = [f"ENERTRACK_TEST_INFLUX_{name}" for name, value in CONFIG.items() if not value]

if MISSING:  # one visible line instead of one per contract test
    pytest.skip(f"InfluxDB contract suite not run: set {', '.join(MISSING)}", allow_module_level=True)

pytestmark = [pytest.mark.influx]


def _empty() -> None:
    """Delete every EnerTrack point in the test bucket: readings and energy ledger."""
    with InfluxDBClient(url=CONFIG["URL"], token=CONFIG["TOKEN"], org=CONFIG["ORG"]) as client:
        for measurement in (MEASUREMENT, LEDGER_MEASUREMENT):
            client.delete_api().delete(
                DELETE_START,
                DELETE_STOP,
                f'_measurement="{measurement}"',
                bucket=CONFIG["BUCKET"],
                org=CONFIG["ORG"],
            )


class TestInfluxContract(StoreContract):
    """Every StoreContract test on InfluxStore."""

    @pytest.fixture
    def store(self) -> Iterator[InfluxStore]:
        influx = InfluxStore(
            CONFIG["URL"], CONFIG["TOKEN"], CONFIG["ORG"], CONFIG["BUCKET"], timeout_ms=30_000
        )
        _empty()
        try:
            yield influx
        finally:
            influx.close()
            _empty()
