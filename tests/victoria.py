"""A real server nobody here wrote for InfluxStore's write path: Debian's victoria-metrics.

VictoriaMetrics accepts influxdb-client's synchronous writes on /api/v2/write (any org,
bucket and token) and shows what it stored on /api/v1/export, one JSON line per series
named ``<measurement>_<field>`` with the tags as labels. It answers Flux queries with 400,
so an InfluxStore pointed at it must be built with ``check_existing=False`` (use
``victoria.store()``; a daemon gets INFLUX_CHECK_EXISTING=false from ``settings_env()``).
``expected_samples()`` says what the export must show for some readings. ``VictoriaFront`` puts
a fake InfluxDB in front of it for the energy ledger, which needs the pre-write Flux query:
writes go through to victoria-metrics, queries are answered by a model fed with what victoria
stored. The fixture is registered by tests/conftest.py; usage in a test module::

    def test_x(victoria: Victoria) -> None:
        store = victoria.store()
        ...
        victoria.stop(); victoria.start()   # an outage, same port and data
"""

from __future__ import annotations

import json
import math
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlencode

import pytest

from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.influx.ledger import LEDGER_FIELD, LEDGER_MEASUREMENT
from enertrack.store.influx.line_protocol import MEASUREMENT
from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import Answer, FakeInflux, InfluxModel, Request
from tests.services import free_port, need_binary

Sample = tuple[int, float]  # epoch milliseconds, value


def expected_samples(
    readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None
) -> dict[tuple[str, str], list[Sample]]:
    """What the export must show: one sample per finite value, first reading per (node, ts)."""
    out: dict[tuple[str, str], list[Sample]] = {}
    seen: set[tuple[str, int]] = set()
    for r in readings:
        if (r.node_id, r.ts) in seen:
            continue
        values = {name: getattr(r, name) for name in NAMES}
        finite = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
        if not finite:
            continue
        seen.add((r.node_id, r.ts))
        knobs = (params or {}).get(r.node_id)
        if knobs is not None and ("energy" in finite or "power" in finite):
            finite |= {
                "rule_interval_s": float(knobs.interval_s),
                "rule_max_power_w": knobs.max_power_w,
            }
        for name, value in finite.items():
            out.setdefault((f"energy_{name}", r.node_id), []).append((r.ts * 1000, float(value)))
    return {key: sorted(samples) for key, samples in out.items()}


class Victoria:
    """One victoria-metrics process on a loopback port with its own storage directory."""

    def __init__(self, binary: str, data_dir: Path, port: int | None = None) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = data_dir.parent / f"victoria-{self.port}.log"

    def start(self, timeout_s: float = 30.0) -> None:
        """Start (or restart) on the same port and data, and wait until it answers /health."""
        if self._process is not None:
            raise RuntimeError("victoria-metrics is already running")
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.data_dir}",
                    "-retentionPeriod=100y",
                    "-loggerLevel=ERROR",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"victoria-metrics exited with {self._process.returncode}: see {self._log}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"victoria-metrics did not answer on {self.url} within {timeout_s} s: see {self._log}"
        )

    def stop(self) -> None:
        """SIGTERM and wait: it flushes what it accepted to disk before exiting."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def store(self, **kwargs: object) -> InfluxStore:
        """An InfluxStore writing here (no Flux: the pre-write existence query is off)."""
        return InfluxStore(
            self.url, "any-token", "any-org", "any-bucket", check_existing=False, **kwargs
        )  # type: ignore[arg-type]

    def settings_env(self) -> dict[str, str]:
        """Environment variables that point EnerTrack's store here (as the daemon must: no Flux)."""
        return {"ENERTRACK_STORE": "influx", "INFLUX_URL": self.url, "INFLUX_TOKEN": "any-token",
                "INFLUX_ORG": "any-org", "INFLUX_BUCKET": "any-bucket", "INFLUX_CHECK_EXISTING": "false"}

    def export(self, match: str = '{__name__=~"energy_.*"}') -> dict[tuple[str, str], list[Sample]]:
        """Every stored sample by (series name, node_id), oldest first."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10):
            pass  # make the latest writes visible to searches
        query = urlencode({"match[]": match})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=30) as answer:
            lines = answer.read().decode("utf-8").splitlines()
        out: dict[tuple[str, str], list[Sample]] = {}
        for line in filter(None, lines):
            item = json.loads(line)
            key = (item["metric"]["__name__"], item["metric"].get("node_id", ""))
            samples = out.setdefault(key, [])
            samples.extend(zip(item["timestamps"], item["values"], strict=True))
            samples.sort()
        return out


class VictoriaFront:
    """A fake InfluxDB in front of victoria-metrics: writes are stored there, Flux is modelled.

    victoria-metrics parses every write (the real line-protocol parser of a server nobody here
    wrote); what it stored is read back after each write (the samples the export did not show
    before) and applied to an InfluxModel with InfluxDB's rule that a field written again at the
    same series and time keeps the last value, which victoria-metrics does not have (it keeps
    every sample, and its deduplication keeps an arbitrary one of equal timestamps). The model
    answers the store's Flux queries.
    """

    def __init__(self, victoria: Victoria) -> None:
        self.victoria = victoria
        self.model = InfluxModel()
        self._seen: Counter[tuple[str, str, int, float]] = Counter()
        self.fake = FakeInflux().start()
        self.fake.respond("/api/v2/write", self._write)
        self.fake.respond("/api/v2/query", self.model.answer)

    def store(self, **kwargs: object) -> InfluxStore:
        """An InfluxStore writing through the front (the pre-write query on: the ledger too)."""
        return InfluxStore(self.fake.url, "any-token", "any-org", "any-bucket", **kwargs)  # type: ignore[arg-type]

    def _write(self, request: Request) -> Answer:
        query = urlencode(request.query, doseq=True)
        forward = urllib.request.Request(
            f"{self.victoria.url}{request.path}?{query}",
            data=request.body,
            headers={"Content-Type": request.headers.get("content-type", "text/plain")},
        )
        try:
            with urllib.request.urlopen(forward, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read(), {"Content-Type": "application/json"})
        now = Counter(
            (name, node, ms // 1000, value)
            for (name, node), samples in self.victoria.export().items()
            for ms, value in samples
        )
        for name, node, ts, value in now - self._seen:
            measurement, field = _split_series_name(name)
            self.model.put(measurement, node, ts, {field: value})
        self._seen = now
        return Answer(status if status >= 300 else 204)

    def close(self) -> None:
        self.fake.stop()


def _split_series_name(name: str) -> tuple[str, str]:
    """victoria's ``<measurement>_<field>`` back into the two (both measurements are known)."""
    ledger = f"{LEDGER_MEASUREMENT}_"
    if name.startswith(ledger):
        return LEDGER_MEASUREMENT, name[len(ledger) :]
    return MEASUREMENT, name[len(MEASUREMENT) + 1 :]


def ledger_samples(export: Mapping[tuple[str, str], list[Sample]]) -> dict[str, list[Sample]]:
    """The energy_ledger samples of an export per node (every sample, repeated stamps too)."""
    series = f"{LEDGER_MEASUREMENT}_{LEDGER_FIELD}"
    return {node: samples for (name, node), samples in export.items() if name == series}


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[Victoria]:
    """A fresh victoria-metrics for one test; skipped (failed in CI) when it is not installed."""
    binary = need_binary(
        "victoria-metrics", "install Debian's package: apt-get install victoria-metrics"
    )
    server = Victoria(binary, tmp_path / "victoria-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
