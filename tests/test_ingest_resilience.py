"""Nothing lost, nothing doubled: the daemon killed, the broker restarted, the store locked, SIGTERM."""

from __future__ import annotations

import re
import sqlite3
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
    first = Stream(broker, 1000, NODES, rate=4000)
    with first:
        pass
    ingest.wait_stored(NODES, 300)
    broker.restart()  # persistence keeps the daemon's session and what was queued for it
    ingest.wait_for(r"disconnected from the broker")
    ingest.wait_for(r"connected to .*session present: True", timeout=30)
    with Stream(broker, 500, NODES, start_ts=first.base + 1000) as second:
        pass
    rows = ingest.wait_stored(NODES, len(first.expected) + len(second.expected), timeout=60)
    assert rows == sorted(first.expected + second.expected)
    assert ingest.stop() == 0
    assert "reconnects 1" in ingest.wait_for(r"totals: .*").group(0)


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
