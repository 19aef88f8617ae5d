"""Nothing lost, nothing doubled: the daemon killed, the broker restarted, the store locked, SIGTERM."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest_process import IngestProcess, Stream, make_users_db
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, broker_fixture

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

NODES = ["r1", "r2"]
USERS = {INGEST_USER: INGEST_PASSWORD, "r1": "r1-password-x", "r2": "r2-password-x"}


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from broker_fixture(tmp_path_factory, users=dict(USERS))


@pytest.fixture
def ingest(tmp_path: Path, broker: Broker) -> Iterator[IngestProcess]:
    # Small batches make every stream below span many commits (and many acks).
    process = IngestProcess(tmp_path, broker, extra_env={"INGEST_BATCH_SIZE": "50", "INGEST_BATCH_MS": "50"})
    make_users_db(process.users_url, NODES)
    yield process
    process.kill()


def assert_exactly_once(ingest: IngestProcess, stream: Stream, timeout: float = 60) -> None:
    rows = ingest.wait_stored(NODES, len(stream.expected), timeout=timeout)
    assert rows == stream.expected  # sorted (node, ts): every message once, none missing, none twice


def test_sigkill_mid_stream_then_restart_stores_every_message_exactly_once(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.start()
    with Stream(broker, 1500, NODES) as stream:
        ingest.wait_stored(NODES, 600)
        ingest.kill()  # no commit, no ack of what it held: the broker keeps it for the session
        stored_at_kill = len(ingest.stored(NODES))
        stream.wait_sent(2400)
        ingest.start()
    assert 0 < stored_at_kill < len(stream.expected)
    assert_exactly_once(ingest, stream)
    assert ingest.stop() == 0
    assert re.search(r"session present: True", ingest.log())
    # The restart stored exactly what the killed run had not; what it redelivered was counted as duplicates.
    second = ingest.wait_for(r"totals: .*").group(0)
    assert int(re.search(r"stored (\d+)", second).group(1)) == len(stream.expected) - stored_at_kill  # type: ignore[union-attr]


def test_broker_restart_mid_stream_the_daemon_reconnects_and_nothing_is_lost(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.start()
    # The publishers keep going through the restart: paho reconnects them and resends what the
    # stopped broker had not acknowledged. 3000 messages at 400 msg/s last 7.5 s whatever the
    # stalls (the stream catches up to its schedule, never beyond it); the restart comes after
    # about 1 s and the daemon is back 1 s later (paho's first retry), so the stream outlives it
    # by seconds even on a loaded machine. (At 1500 msg/s it ended 0.5 s after the reconnection.)
    with Stream(broker, 1500, NODES, rate=400, reconnecting=True) as stream:
        stream.wait_sent(400)
        ingest.wait_stored(NODES, 300)
        stored_at_restart, sent_at_restart = len(ingest.stored(NODES)), stream.sent
        broker.restart()  # persistence keeps the daemon's session, its unacked and its queued messages
        sent_after_restart = stream.sent
        ingest.wait_for(r"disconnected from the broker")
        ingest.wait_for(r"connected to .*session present: True", timeout=30)
        sent_at_reconnect = stream.sent
        assert stream.thread.is_alive(), f"the stream ended before the daemon reconnected ({sent_at_reconnect} sent)"
    total = len(stream.expected)
    assert 0 < stored_at_restart < total and sent_at_restart <= sent_after_restart < total  # mid-stream
    assert sent_at_reconnect < total  # and messages still came after the daemon was back
    assert_exactly_once(ingest, stream)
    assert ingest.stop() == 0
    assert "reconnects 1," in ingest.wait_for(r"totals: .*").group(0)


def test_the_daemon_started_before_the_broker_keeps_trying_and_connects(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", users=dict(USERS))  # its port chosen, nothing listening yet
    ingest = IngestProcess(tmp_path, broker)
    make_users_db(ingest.users_url, NODES)
    try:
        started = time.monotonic()
        ingest.start(wait=False)
        ingest.wait_for(rf"cannot connect to 127\.0\.0\.1:{broker.port}: .*Connection refused.*retrying with backoff")
        time.sleep(max(0.0, started + 3 - time.monotonic()))
        assert "connected to" not in ingest.log() and ingest.process and ingest.process.poll() is None
        broker.start()
        # paho's backoff after the refusals so far: at most 4 s more.
        ingest.wait_for(r"connected to .* \(session present: False\)", timeout=15)
        with Stream(broker, 20, NODES) as stream:
            pass
        assert_exactly_once(ingest, stream, timeout=20)
        assert ingest.stop() == 0
    finally:
        ingest.kill()
        broker.stop()


@pytest.mark.parametrize("daemon_env", [{}, {"MQTT_MAX_INFLIGHT": "20"}], ids=["daemon-defaults", "inflight-20"])
def test_mosquittos_default_inflight_window_loses_nothing(tmp_path: Path, daemon_env: dict[str, str]) -> None:
    # Mosquitto's own default max_inflight_messages (20), not the template's 1000; the daemon at
    # its defaults (INGEST_BATCH_SIZE 500, MQTT_MAX_INFLIGHT 1000) or told the broker's window.
    with Broker(tmp_path / "mosquitto", users=dict(USERS), max_inflight=20) as broker:
        ingest = IngestProcess(tmp_path, broker, extra_env=daemon_env)
        make_users_db(ingest.users_url, NODES)
        try:
            ingest.start()
            with Stream(broker, 1000, NODES, rate=4000) as stream:
                pass
            assert_exactly_once(ingest, stream, timeout=30)
            assert ingest.stop() == 0
        finally:
            ingest.kill()
    line = ingest.wait_for(r"totals: .*").group(0)
    total = len(stream.expected)
    # Nothing redelivered, no connection lost: every message received once, stored once.
    assert f"received {total}, stored {total}, without ts 0, duplicates 0," in line, line
    assert "reconnects 0," in line, line
    batches = int(re.search(r"batches (\d+) ", line).group(1))  # type: ignore[union-attr]
    capped = "batches are capped at 20" in ingest.log()
    if daemon_env:
        # The batches keep to MQTT_MAX_INFLIGHT: at least total / 20 of them.
        assert capped and batches >= total / 20, line
    else:
        # No warning, and nothing ties the batches to 20: Mosquitto 2.0.11 lends a connected
        # subscriber more than max_inflight_messages once acks flow (docs/operations.md §4).
        assert not capped and batches >= 1, line


def test_store_unavailable_then_restored_nothing_lost(broker: Broker, ingest: IngestProcess) -> None:
    ingest.start()
    with Stream(broker, 100, NODES, rate=2000) as warmup:
        pass
    ingest.wait_stored(NODES, len(warmup.expected))
    blocker = sqlite3.connect(ingest.tsdb, timeout=1, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock: the store is unavailable
    try:
        with Stream(broker, 300, NODES, rate=2000, start_ts=warmup.base + 100) as during:
            pass
        ingest.wait_for(r"store unavailable for \d+ s .*holding \d+ messages unacknowledged", timeout=30)
        assert len(ingest.stored(NODES)) == len(warmup.expected)  # readers still work; nothing new
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    ingest.wait_for(r"store available again", timeout=30)
    rows = ingest.wait_stored(NODES, len(warmup.expected) + len(during.expected))
    assert rows == sorted(warmup.expected + during.expected)
    assert ingest.stop() == 0
    assert re.search(r"store retries [1-9]", ingest.wait_for(r"totals: .*").group(0))


def test_sigterm_commits_and_acks_what_it_holds_then_exits_0(broker: Broker, ingest: IngestProcess) -> None:
    ingest.start()
    with Stream(broker, 1500, NODES) as stream:
        ingest.wait_stored(NODES, 500)
        code = ingest.stop()
        stored_at_stop = len(ingest.stored(NODES))
        stream.wait_sent(2000)
    assert code == 0
    first = ingest.wait_for(r"totals: .*").group(0)
    received = int(re.search(r"received (\d+)", first).group(1))  # type: ignore[union-attr]
    stored = int(re.search(r"stored (\d+)", first).group(1))  # type: ignore[union-attr]
    assert received == stored == stored_at_stop  # everything taken in was committed before exit
    ingest.start()
    assert_exactly_once(ingest, stream)
    assert ingest.stop() == 0
    # What the first run committed it also acknowledged: the second run got none of it again.
    second = ingest.wait_for(r"totals: .*").group(0)
    assert "duplicates 0," in second, second
    assert int(re.search(r"stored (\d+)", second).group(1)) == len(stream.expected) - stored  # type: ignore[union-attr]
