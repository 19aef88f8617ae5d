"""The firmware's core as the host node, against a real Mosquitto over TLS and the real ingest daemon.

firmware/host/enertrack-node is the ESP32's core with libmosquitto for a network and a simulated
PZEM-004T (firmware/README.md, "Host node"). Every reading it takes is logged as `reading ts=<ms>`;
the tests compare those lines with what the daemon stored.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from enertrack.core.magnitudes import NAMES
from enertrack.db import make_engine, make_session_factory
from enertrack.models import Node, NodeHealth
from enertrack.store.sqlite.store import SQLiteStore
from tests.ingest_process import IngestProcess, make_users_db
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, ROOT, Broker, broker_fixture, make_pki
from tests.services import need

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

FIRMWARE = ROOT / "firmware"
NODE_BINARY = FIRMWARE / "host" / "enertrack-node"
NODE = "meter-1"
NODE_PASSWORD = "meter-1-password-x"
READING = re.compile(r"\[enertrack\] reading ts=(\d+)")


@pytest.fixture(scope="module")
def node_binary() -> Path:
    """The host node, built (or brought up to date) with the firmware's own Makefile."""
    tools = shutil.which("make") and shutil.which("g++") and Path("/usr/include/mosquitto.h").exists()
    need(bool(tools), "the host node needs make, g++ and libmosquitto-dev: sudo apt-get install -y g++ libmosquitto-dev "
                      "(or run `make firmware`)")
    result = subprocess.run(["make", "-C", str(FIRMWARE), "host/enertrack-node"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return NODE_BINARY


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from broker_fixture(tmp_path_factory, users={INGEST_USER: INGEST_PASSWORD, NODE: NODE_PASSWORD})


@pytest.fixture
def ingest(tmp_path: Path, broker: Broker, request: pytest.FixtureRequest) -> Iterator[IngestProcess]:
    if broker.process is None:
        broker.start()  # a test that stopped the broker and failed before restarting it
    process = IngestProcess(tmp_path, broker, extra_env={"MQTT_CLIENT_ID": f"ingest-{request.node.name[:40]}"})
    make_users_db(process.users_url, [NODE], interval_s=1)
    process.start()
    yield process
    process.kill()


class HostNode:
    """One run of firmware/host/enertrack-node with its output collected line by line."""

    def __init__(self, binary: Path, broker: Broker, *args: str, ca: Path | None = None) -> None:
        command = [str(binary), "--host", "127.0.0.1", "--port", str(broker.port),
                   "--ca", str(ca or broker.pki.ca_cert), "--password", NODE_PASSWORD, "--node", NODE,
                   "--interval", "1", "--backoff-max-ms", "1000", *args]
        self.started = time.time()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def taken_ms(self) -> list[int]:
        """The ts (epoch ms) of every reading the node took, in the order it took them."""
        return [int(m.group(1)) for line in list(self.lines) if (m := READING.search(line))]

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.output())) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"node output never matched {pattern!r} x{count}:\n{self.output()}")
            time.sleep(0.05)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the node to exit (--count N: all N readings acknowledged) and return its exit code."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"the node did not finish within {timeout} s:\n{self.output()}") from None
        self._reader.join(5)
        return code

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self._reader.join(5)


def stored_seconds(ingest: IngestProcess) -> list[int]:
    return [ts for _node, ts in ingest.stored([NODE])]


def retained_status(broker: Broker) -> str:
    """The retained message on the node's status topic, as a fresh subscriber gets it."""
    got: list[str] = []
    done = threading.Event()
    client = broker.client(INGEST_USER)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        got.append(message.payload.decode())
        done.set()

    client.on_message = on_message
    client.subscribe(f"enertrack/{NODE}/status", qos=1)
    done.wait(5)
    client.disconnect()
    client.loop_stop()
    return got[0] if got else ""


class TelemetryWatch:
    """A persistent paho subscription to the node's telemetry: it survives a broker restart."""

    def __init__(self, broker: Broker) -> None:
        self.payloads: list[dict[str, object]] = []
        self.client = broker.client(INGEST_USER, client_id="firmware-e2e-watch", clean=False)
        self.client.on_message = lambda _c, _u, m: self.payloads.append(json.loads(m.payload))
        self.client.subscribe(f"enertrack/{NODE}/telemetry", qos=1)

    def wait_for_ts(self, ts_ms: int, timeout: float = 10) -> None:
        """Wait until the message of the reading taken at ts_ms has arrived."""
        deadline = time.monotonic() + timeout
        while not any(p["ts"] == ts_ms for p in list(self.payloads)):
            assert time.monotonic() < deadline, f"no message with ts {ts_ms}: {self.payloads}"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_every_reading_is_stored_once_with_the_ts_it_was_taken_at(
        node_binary: Path, broker: Broker, ingest: IngestProcess) -> None:
    watch = TelemetryWatch(broker)
    node = HostNode(node_binary, broker, "--count", "5")
    assert node.wait() == 0, node.output()
    finished = time.time()
    taken = node.taken_ms()
    assert len(taken) == 5
    # Taken once a second, while the node ran: real epoch milliseconds, not the time of storage.
    assert all(node.started - 1 <= ts / 1000 <= finished for ts in taken), (taken, node.started, finished)
    assert [b - a for a, b in zip(taken, taken[1:], strict=False)] == pytest.approx([1000] * 4, abs=250)
    rows = ingest.wait_stored([NODE], 5)
    assert stored_seconds(ingest) == [ts // 1000 for ts in taken]
    assert rows == [(NODE, ts // 1000) for ts in taken]  # each once
    # The values arrive as the node wrote them: canonical names, energy in kWh, no field lost.
    watch.wait_for_ts(taken[-1])
    watch.close()
    sent = {p["ts"] // 1000: p for p in watch.payloads}  # type: ignore[operator]
    with SQLiteStore(ingest.tsdb) as store:
        for reading in store.readings(NODE):
            payload = sent[reading.ts]
            assert reading.values() == {k: payload[k] for k in NAMES}, (reading, payload)
    # A clean stop says offline itself (a clean disconnect does not fire the Last Will).
    assert retained_status(broker) == "offline"


def test_the_last_will_says_offline_when_the_node_dies(
        node_binary: Path, broker: Broker, ingest: IngestProcess) -> None:
    node = HostNode(node_binary, broker)
    node.wait_for(r"mqtt connected")
    ingest.wait_stored([NODE], 1)
    assert retained_status(broker) == "online"
    node.stop(signal.SIGKILL)  # no chance to say goodbye: the broker publishes the will
    deadline = time.monotonic() + 60  # the broker notices after 1.5 x the 30 s keepalive at worst
    while retained_status(broker) != "offline":
        assert time.monotonic() < deadline, "the Last Will was not published"
        time.sleep(0.5)


def test_broker_down_for_several_intervals_buffers_then_replays_everything_once(
        node_binary: Path, broker: Broker, ingest: IngestProcess) -> None:
    node = HostNode(node_binary, broker, "--count", "12")
    ingest.wait_stored([NODE], 3)
    broker.stop()
    outage_started = len(node.taken_ms())
    time.sleep(5)  # five intervals without a broker
    taken_during_outage = len(node.taken_ms()) - outage_started
    broker.start()
    assert node.wait() == 0, node.output()
    assert taken_during_outage >= 4
    assert "mqtt connection lost" in node.output()
    taken = node.taken_ms()
    ingest.wait_stored([NODE], 12, timeout=30)
    assert stored_seconds(ingest) == [ts // 1000 for ts in taken]  # all 12, in order, each once, original ts
    replay = re.search(r"mqtt connected; (\d+) readings to send", node.output().split("connection lost", 1)[1])
    assert replay and int(replay.group(1)) >= 4, node.output()


def test_a_full_buffer_drops_the_oldest_and_publishes_the_dropped_count(
        node_binary: Path, broker: Broker, ingest: IngestProcess) -> None:
    watch = TelemetryWatch(broker)
    try:
        node = HostNode(node_binary, broker, "--count", "12", "--buffer", "3")
        ingest.wait_stored([NODE], 2)
        broker.stop()
        node.wait_for(r"buffer full: dropped the oldest reading \(3 dropped since boot\)", timeout=15)
        broker.start()
        assert node.wait() == 0, node.output()
        dropped = int(re.findall(r"\((\d+) dropped since boot\)", node.output())[-1])
        taken = [ts // 1000 for ts in node.taken_ms()]
        stored = stored_seconds(ingest)
        deadline = time.monotonic() + 20
        while len(stored) < len(taken) - dropped and time.monotonic() < deadline:
            time.sleep(0.1)
            stored = stored_seconds(ingest)
        missing = [ts for ts in taken if ts not in stored]
        assert len(missing) == dropped >= 3
        assert set(stored) <= set(taken) and len(stored) == len(set(stored))
        # What was lost is one run of consecutive readings (the oldest in the buffer), nothing after it.
        first = taken.index(missing[0])
        assert taken[first:first + dropped] == missing
        # The node told EnerTrack: every message sent after the overflow carries the count.
        watch.wait_for_ts(node.taken_ms()[-1])
        after = [p for p in watch.payloads if p["ts"] // 1000 > missing[-1]]  # type: ignore[operator]
        assert after and all(p["dropped"] == dropped for p in after), after
        assert all(p["dropped"] == 0 for p in watch.payloads if p["ts"] // 1000 < missing[0])  # type: ignore[operator]
        assert {"fw", "uptime_s", "buffered"} <= set(after[-1]) and "rssi" not in after[-1]  # no radio on a PC
        # ...and the daemon kept it as the node's device health, which the node page shows.
        health = wait_for_health(ingest, lambda row: row.dropped == dropped)
        assert (health.fw, health.dropped, health.rssi) == (after[-1]["fw"], dropped, None)
    finally:
        watch.close()


def wait_for_health(ingest: IngestProcess, ready: Callable[[NodeHealth], bool], timeout: float = 20.0) -> NodeHealth:
    """The node's device-health row once ready(row) holds (the daemon records it after storing the batch)."""
    engine = make_engine(ingest.users_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with make_session_factory(engine)() as session:
                row = session.scalars(select(NodeHealth).join(Node, Node.id == NodeHealth.node_pk)
                                      .where(Node.node_id == NODE)).one_or_none()
            if row is not None and ready(row):
                return row
            assert time.monotonic() < deadline, f"device health not recorded as expected: {row and vars(row)}"
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_readings_taken_before_the_clock_is_set_keep_the_time_they_were_taken(
        node_binary: Path, broker: Broker, ingest: IngestProcess) -> None:
    node = HostNode(node_binary, broker, "--count", "5", "--clock-delay", "3")
    assert node.wait() == 0, node.output()
    assert "reading held: clock not set yet (3 held)" in node.output()
    assert "clock set: 3 held readings stamped" in node.output()
    taken = node.taken_ms()
    # Stamped from the monotonic clock: the first reading has the time the node started, not the
    # time NTP answered three seconds later; the readings stay one interval apart.
    assert abs(taken[0] / 1000 - node.started) < 1.0, (taken, node.started)
    assert [b - a for a, b in zip(taken, taken[1:], strict=False)] == pytest.approx([1000] * 4, abs=250)
    ingest.wait_stored([NODE], 5)
    assert stored_seconds(ingest) == [ts // 1000 for ts in taken]


def test_a_broker_certificate_from_another_ca_is_refused(
        node_binary: Path, broker: Broker, ingest: IngestProcess, tmp_path: Path) -> None:
    other_ca = make_pki(tmp_path / "other", name="other").ca_cert
    node = HostNode(node_binary, broker, ca=other_ca)
    node.wait_for(r"mqtt connect failed \(.*\): retry in", count=2)
    node.stop()
    assert "mqtt connected" not in node.output()
    assert stored_seconds(ingest) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "127.0.0.1", "--node", "n", "--password", "p"], "--ca is required (there is no insecure"),
    (["--host", "h", "--ca", "c", "--node", "n", "--password", "p", "--interval", "0.5"],
     "--interval must be a whole number from 1 to 3600, got '0.5'"),
    (["--bogus", "1"], "unknown option --bogus"),
    (["--host", "h", "--ca", "c", "--node", "meter/1", "--password", "p"], "--node: node_id must be 1-64 of"),
])
def test_bad_command_lines_exit_2_saying_what_is_wrong(node_binary: Path, args: list[str], message: str) -> None:
    result = subprocess.run([str(node_binary), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert message in result.stderr
    assert "usage: enertrack-node" in result.stderr
