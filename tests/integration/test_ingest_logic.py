"""The daemon's commit rule (ack only after the durable write), driven through its seams.

The commit rule (enertrack.ingest.committer.Committer) gets a fake store and a fake ack; the
Daemon gets a fake MQTT client from its client factory. Nothing private is patched.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from enertrack.config import Settings, load_settings
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest import users_db
from enertrack.ingest.batcher import DeadLetter, Inbound, plan_batch
from enertrack.ingest.committer import Committer
from enertrack.ingest.daemon import Daemon
from enertrack.ingest.directory import NodeDirectory
from enertrack.ingest.payload import MAX_PAYLOAD_BYTES, Reason
from enertrack.ingest.users_db import recent_rejections
from enertrack.models import Node, NodeHealth
from enertrack.store.base import StoreRejected, StoreUnavailable, WriteResult
from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import Answer, Request, serve
from tests.ingest_process import make_users_db

NOW = 1_750_000_000.0
SERVER_REFUSAL = "failure writing points to database: partial write: points beyond retention policy dropped=1"
REFUSAL = f"InfluxDB rejected the request (422) while writing 1 readings to bucket 'b': {SERVER_REFUSAL}"


def msg(mid: int, payload: object, node: str = "n1", *, generation: int = 1, kind: str = "telemetry",
        qos: int = 1) -> Inbound:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Inbound(mid, f"enertrack/{node}/{kind}", raw, NOW, False, generation, qos)


def no_wait(_state: object) -> float:
    """The retry wait of these tests: none, so an outage of a few attempts takes no time."""
    return 0.0


# ---- fakes: a store, an ack, an MQTT client, a clock ------------------------------------------

class FlakyStore:
    """A store that is unavailable for its first `failures` writes."""

    def __init__(self, failures: int, newest: Mapping[str, int] | None = None) -> None:
        self.failures = failures
        self.attempts = 0
        self.batches: list[list[Reading]] = []
        self.params: list[Mapping[str, EnergyParams]] = []
        self.newest = dict(newest or {})  # node -> ts of its newest stored reading, before this test
        self.asked_latest: list[str] = []

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        self.asked_latest.extend(node_ids)
        return {n: Reading(n, self.newest[n], power=1.0) for n in node_ids if n in self.newest}

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("disk full")
        self.batches.append(list(readings))
        self.params.append(dict(params or {}))
        return WriteResult(len(readings), 0)


class RefusingStore(FlakyStore):
    """Refuses (StoreRejected) every write holding a reading whose power is in `refused`."""

    def __init__(self, refused: set[float], refusal: str = REFUSAL) -> None:
        super().__init__(failures=0)
        self.refused = refused
        self.refusal = refusal

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        if any(r.power in self.refused for r in readings):
            raise StoreRejected(self.refusal)
        return super().write(readings, params)


class RecordingAck:
    """The ack callback: records (mid, qos, writes done when acked) for each acknowledged message."""

    def __init__(self, progress: Callable[[], int]) -> None:
        self.progress = progress
        self.acks: list[tuple[int, int, int]] = []

    def __call__(self, messages: Sequence[Inbound]) -> None:
        self.acks.extend((m.mid, m.qos, self.progress()) for m in messages if m.qos > 0)


class FakeClient:
    """What the daemon's client factory gives these tests: paho's surface, no network."""

    def __init__(self, _settings: Settings) -> None:
        self.acks: list[tuple[int, int]] = []
        self.subscribed: list[object] = []
        self.on_connect: Any = None
        self.on_message: Any = None

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append((mid, qos))

    def subscribe(self, topics: object) -> tuple[int, int]:
        self.subscribed.append(topics)
        return mqtt.MQTT_ERR_SUCCESS, 1

    def reconnect_delay_set(self, *_args: int) -> None:
        pass

    def enable_logger(self, _logger: logging.Logger) -> None:
        pass

    def connected(self) -> None:
        """The broker accepted the connection, as paho reports it."""
        self.on_connect(self, None, mqtt.ConnectFlags(session_present=False),
                        ReasonCode(PacketTypes.CONNACK, "Success"), None)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """True as soon as condition() holds; False once timeout seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def daemon_parts(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    make_users_db(url, ["n1"], interval_s=15)
    return url, tmp_path


def make_committer(
    url: str, store: object, progress: Callable[[], int] | None = None, clock: Callable[[], float] = time.time,
) -> tuple[Committer, RecordingAck, Engine]:
    """The commit rule on the users database at url and store, acking into a RecordingAck.

    progress counts the writes done so far (default: the batches a FlakyStore took).
    """
    engine = make_engine(url)
    ack = RecordingAck(progress or (lambda: len(store.batches)))  # type: ignore[attr-defined]
    committer = Committer(store, NodeDirectory(), ack, sessions=make_session_factory(engine),  # type: ignore[arg-type]
                          prefix="enertrack", clock=clock, retry_wait=no_wait)
    return committer, ack, engine


def make_daemon(url: str, store: object, **settings: object) -> tuple[Daemon, FakeClient, Engine]:
    """A whole daemon on a FakeClient, connected once; no stop grace, no retry wait."""
    engine = make_engine(url)
    daemon = Daemon(load_settings(check=False, DATABASE_URL=url, MQTT_TLS=False, **settings),
                    store, make_session_factory(engine),  # type: ignore[arg-type]
                    client_factory=FakeClient, stop_grace_s=0.0, retry_wait=no_wait)  # type: ignore[arg-type]
    client: FakeClient = daemon.client  # type: ignore[assignment]
    client.connected()
    return daemon, client, engine


# ---- what the network thread hands over, and what the daemon logs ----------------------------

def test_the_hand_over_keeps_only_enough_of_an_oversized_topic_or_payload_to_reject_it(
    daemon_parts: tuple[str, Path],
) -> None:
    # The queue counts messages, not bytes: 64 KiB topics and payloads must not fill it.
    url, _ = daemon_parts
    daemon, client, engine = make_daemon(url, FlakyStore(failures=0))
    engine.dispose()
    assert client.subscribed == [[("enertrack/+/telemetry", 1), ("enertrack/+/status", 1)]]
    sent = [(b"enertrack/n1/" + b"x" * 60_000, b'{"p": 1}'), (b"enertrack/n1/telemetry", b"{" + b" " * 60_000 + b"}"),
            (b"enertrack/n1/telemetry", b'{"p": 1}')]
    for mid, (topic, payload) in enumerate(sent, 1):
        message = mqtt.MQTTMessage(mid, topic)
        message.payload = payload
        client.on_message(client, None, message)  # as paho's network thread calls it
    queued = daemon.queue.take(10, 0)
    assert [(len(m.topic), len(m.payload)) for m in queued] == [
        (len("enertrack") + 1 + 64 + len("/telemetry") + 1, 8), (22, MAX_PAYLOAD_BYTES + 1), (22, 8)
    ]
    plan = plan_batch(queued, "enertrack", lambda _node_id: True)
    assert [d.rejection.reason for d in plan.dead_letters] == [Reason.BAD_TOPIC, Reason.TOO_LARGE]
    # What was kept is not what was sent: the messages give the limit, not the cut length.
    assert plan.dead_letters[0].rejection.message.startswith("topic is more than 84 characters, longer than any")
    assert plan.dead_letters[1].rejection.message.startswith("payload is more than 4096 bytes")
    assert [r.power for r in plan.readings] == [1.0]


def test_a_rejection_is_logged_without_raw_control_characters(
    daemon_parts: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = daemon_parts
    store = RefusingStore({666.0}, refusal="the store said: \x1b[2J\nFAKE LOG LINE")
    committer, _ack, engine = make_committer(url, store)
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 666.0}),
                      Inbound(2, "enertrack/n1\x1b]0;owned\x07\r/telemetry", '{"p": "\u009b"}'.encode(), NOW)])
    engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
    assert len(lines) == 2 and all(line.isprintable() for line in lines), lines
    bad_topic, refused = sorted(lines)
    assert "\\x1b[2J\\nFAKE LOG LINE" in refused  # the store's words
    assert "n1\\x1b]0;owned\\x07\\r" in bad_topic and "\\x9b" in bad_topic  # the topic and the payload


# ---- the commit rule: ack only after both writes succeeded ---------------------------------

def test_commit_retries_an_unavailable_store_and_acks_only_after_the_write(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=3)
    committer, ack, engine = make_committer(url, store)
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 1}), msg(2, b"NaN"), msg(3, {"p": 2}, node="ghost")])
    engine.dispose()
    assert [len(b) for b in store.batches] == [1]
    assert store.params == [{"n1": EnergyParams(interval_s=15)}]
    assert ack.acks == [(1, 1, 1), (2, 1, 1), (3, 1, 1)]  # rejected ones acked too, all after the write
    assert committer.stats.totals.store_retries == 3
    assert committer.stats.totals.rejected == Counter({"bad_json": 1, "unknown_node": 1})


def test_a_stop_during_an_outage_leaves_everything_unacknowledged(daemon_parts: tuple[str, Path]) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=10**9)
    committer, ack, engine = make_committer(url, store)
    committer.give_up_at = 0.0  # a stop with no grace left
    assert not committer.commit([msg(1, {"p": 1})])
    assert ack.acks == [] and store.batches == []
    # The whole daemon, one message per batch: the writer gives up after the first batch and
    # leaves the rest to the broker, instead of trying the outage again one batch at a time.
    daemon, client, engine2 = make_daemon(url, FlakyStore(failures=10**9), INGEST_BATCH_SIZE=1)
    daemon.stop("test")
    for i in range(3):
        assert daemon.queue.put(msg(10 + i, {"p": i}), timeout=0)
    daemon.write_loop()  # returns at once
    engine.dispose()
    engine2.dispose()
    attempts = daemon.committer.store.attempts  # type: ignore[attr-defined]
    assert client.acks == [] and attempts == 1 and len(daemon.queue) == 2


# ---- readings the store refuses (StoreRejected): isolate them, store the rest, ack all ------

def test_readings_the_store_refuses_are_dead_lettered_the_rest_stored_and_every_message_acked(
    daemon_parts: tuple[str, Path],
) -> None:
    url, _ = daemon_parts
    store = RefusingStore({666.0, 667.0})
    committer, ack, engine = make_committer(url, store)
    powers = {1: 1.0, 2: 2.0, 3: 666.0, 4: 4.0, 5: 5.0, 6: 667.0, 7: 7.0, 8: 8.0}
    messages = [msg(mid, {"ts": 1_749_999_000 + mid, "p": p}) for mid, p in powers.items()]
    committer.commit([*messages, msg(9, b"NaN")])  # would raise StoreRejected and kill the writer
    rejections = recent_rejections(make_session_factory(engine))
    engine.dispose()
    stored = sorted((r.ts, r.power) for batch in store.batches for r in batch)
    assert stored == [(1_749_999_000 + mid, p) for mid, p in powers.items() if p < 600]
    writes_done = len(store.batches)
    assert ack.acks == [(mid, 1, writes_done) for mid in range(1, 10)]  # all, after every write
    refused = [r for r in rejections if r.reason == "store_rejected"]
    assert sorted((r.node_id, r.topic, r.excerpt) for r in refused) == [
        ("n1", "enertrack/n1/telemetry", json.dumps({"ts": 1_749_999_003, "p": 666.0})),
        ("n1", "enertrack/n1/telemetry", json.dumps({"ts": 1_749_999_006, "p": 667.0})),
    ]
    assert all(r.message.startswith("valid, but the time-series store refused it") and r.message.endswith(REFUSAL) for r in refused)
    assert committer.stats.totals.rejected == Counter({"store_rejected": 2, "bad_json": 1})
    assert committer.stats.totals.stored == 6


def test_influxdb_refusing_some_points_through_the_real_client(daemon_parts: tuple[str, Path]) -> None:
    # The same through InfluxStore and influxdb-client: a server that answers 422 to any write
    # holding a point it will not take, and 204 otherwise, as InfluxDB does for retention.
    url, _ = daemon_parts
    fake = serve()
    server = next(fake)
    try:
        def answer_write(request: Request) -> Answer:
            if b"power=666" in request.body:
                return Answer(422, json.dumps({"code": "unprocessable entity", "message": SERVER_REFUSAL}).encode(),
                              {"Content-Type": "application/json"})
            return Answer(204)

        server.respond("/api/v2/write", answer_write)
        server.answer("/api/v2/query", Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"}))
        store = InfluxStore(server.url, "token", "org", "bucket", timeout_ms=2000)
        committer, ack, engine = make_committer(url, store, lambda: len(server.sent("/api/v2/write")))
        powers = [float(p) for p in range(1, 41)]
        powers[12] = 666.0
        committer.commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": p}) for mid, p in enumerate(powers, 1)])
        rejections = recent_rejections(make_session_factory(engine))
        engine.dispose()
        store.close()
        accepted = [line for r in server.sent("/api/v2/write") if b"power=666" not in r.body
                    for line in r.body.decode().splitlines() if line.startswith("energy,")]  # not the ledger
    finally:
        next(fake, None)
    stamps = sorted(int(line.rsplit(" ", 1)[1]) for line in accepted)
    assert stamps == [1_749_999_000 + mid for mid in range(1, 41) if mid != 13]  # each once
    writes_done = len(server.sent("/api/v2/write"))
    assert ack.acks == [(mid, 1, writes_done) for mid in range(1, 41)]  # all, after every write
    assert [(r.reason, r.node_id) for r in rejections] == [("store_rejected", "n1")]
    assert rejections[0].message.endswith(f"InfluxDB rejected the request (422) while writing 1 readings "
                                          f"to bucket 'bucket': {SERVER_REFUSAL}")
    assert rejections[0].excerpt == json.dumps({"ts": 1_749_999_013, "p": 666.0})
    assert committer.stats.totals.rejected == Counter({"store_rejected": 1})


class RefusingAllStore(FlakyStore):
    """Refuses (StoreRejected) every write until its `refusals` run out, then stores."""

    def __init__(self, refusals: int) -> None:
        super().__init__(failures=0)
        self.refusals = refusals

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        if self.refusals:
            self.refusals -= 1
            raise StoreRejected(REFUSAL)
        return super().write(readings, params)


RETENTION_START = 1_740_000_000  # the fake bucket keeps nothing older


def beyond_retention(request: Request) -> Answer:
    """InfluxDB's answer to a write: 422 in its own error JSON if a point is older than the bucket keeps."""
    stamps = [int(line.rsplit(" ", 1)[1]) for line in request.body.decode().splitlines() if line]
    if min(stamps) < RETENTION_START:
        return Answer(422, json.dumps({"code": "unprocessable entity", "message": SERVER_REFUSAL}).encode(),
                      {"Content-Type": "application/json"})
    return Answer(204)


def test_two_nodes_refused_by_influxdb_in_one_batch_are_dead_lettered_and_the_stream_goes_on(tmp_path: Path) -> None:
    # Two nodes back from an RTC reset send readings older than the bucket's retention, and at
    # INGEST_BATCH_MS=200 they share a batch holding nothing else. InfluxDB's own refusal is about
    # the data, so holding that batch would retry it forever and stall every node behind it.
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    make_users_db(url, ["n1", "n2"])
    fake = serve()
    server = next(fake)
    writer: threading.Thread | None = None
    try:
        server.respond("/api/v2/write", beyond_retention)
        server.answer("/api/v2/query", Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"}))
        store = InfluxStore(server.url, "token", "org", "bucket", timeout_ms=2000)
        daemon, client, engine = make_daemon(url, store)
        stale = {1: ("n1", 1_610_000_001), 2: ("n2", 1_610_000_002)}
        fresh = {3: ("n1", 1_749_999_003), 4: ("n2", 1_749_999_004)}
        for mid, (node, ts) in stale.items():  # queued before the writer starts: one batch
            daemon.queue.put(msg(mid, {"ts": ts, "p": mid}, node=node), timeout=1)
        writer = threading.Thread(target=daemon.write_loop, name="test-writer", daemon=True)
        writer.start()
        stale_acked = wait_until(lambda: len(client.acks) >= 2, timeout=10)
        for mid, (node, ts) in fresh.items():
            daemon.queue.put(msg(mid, {"ts": ts, "p": mid}, node=node), timeout=1)
        all_acked = stale_acked and wait_until(lambda: len(client.acks) >= 4, timeout=10)
        writes = server.sent("/api/v2/write")
    finally:
        if writer is not None:
            daemon.stop()  # no stop grace: a writer still retrying gives up now
            writer.join(10)
            rejections = recent_rejections(make_session_factory(engine))
            engine.dispose()
            store.close()
        next(fake, None)
    assert stale_acked and all_acked, f"acked {client.acks} after {len(writes)} writes"
    first = writes[0].body.decode()
    assert "node_id=n1" in first and "node_id=n2" in first  # both nodes' readings, in one batch
    assert sorted((r.reason, r.node_id, r.excerpt) for r in rejections) == [
        ("store_rejected", node, json.dumps({"ts": ts, "p": mid})) for mid, (node, ts) in stale.items()
    ]
    assert all(r.message.endswith(SERVER_REFUSAL) for r in rejections)
    sent = sorted(int(line.rsplit(" ", 1)[1]) for w in writes for line in w.body.decode().splitlines()
                  if line.startswith("energy,"))  # the readings' lines, not the ledger's
    assert [ts for ts in sent if ts >= RETENTION_START] == [ts for _node, ts in fresh.values()]  # stored
    assert sorted(mid for mid, *_ in client.acks) == [1, 2, 3, 4]
    assert daemon.stats.totals.store_retries == 0 and not daemon.failed


def test_one_nodes_readings_all_refused_are_dead_lettered_so_one_node_cannot_hold_up_the_rest(
    daemon_parts: tuple[str, Path],
) -> None:
    url, _ = daemon_parts
    store = RefusingAllStore(refusals=10**9)
    committer, ack, engine = make_committer(url, store, lambda: 0)
    committer.commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": mid}) for mid in (1, 2, 3)])
    rejections = recent_rejections(make_session_factory(engine))
    engine.dispose()
    assert [mid for mid, *_ in ack.acks] == [1, 2, 3]
    assert [r.reason for r in rejections] == ["store_rejected"] * 3


def test_a_proxy_answering_400_in_front_of_influxdb_loses_nothing(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misconfigured reverse proxy answers 400 with its own page, not InfluxDB's error JSON:
    # the batch is held and retried, never split up and dead-lettered.
    url, _ = daemon_parts
    fake = serve()
    server = next(fake)
    try:
        page = Answer(400, b"<html><body><h1>400 Bad Request</h1></body></html>\r\n", {"Content-Type": "text/html"})
        server.answer("/api/v2/write", page, page, Answer(204))
        server.answer("/api/v2/query", Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"}))
        store = InfluxStore(server.url, "token", "org", "bucket", timeout_ms=2000)
        committer, ack, engine = make_committer(url, store, lambda: len(server.sent("/api/v2/write")))
        committer.commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": mid}) for mid in (1, 2, 3)])
        rejections = recent_rejections(make_session_factory(engine))
        engine.dispose()
        store.close()
        writes = server.sent("/api/v2/write")
    finally:
        next(fake, None)
    assert rejections == []
    assert len(writes) == 3 and writes[0].body == writes[1].body == writes[2].body  # the whole batch each time
    assert [line.rsplit(" ", 1)[1] for line in writes[2].body.decode().splitlines() if line.startswith("energy,")] == [
        str(1_749_999_000 + mid) for mid in (1, 2, 3)
    ]
    assert ack.acks == [(mid, 1, 3) for mid in (1, 2, 3)]
    assert committer.stats.totals.store_retries == 2


# ---- readings without ts through the commit ---------------------------------------------------

def test_an_untimed_backlog_is_stored_in_full_with_the_same_seconds_on_a_retry(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=2, newest={"n1": int(NOW) + 3})  # a previous run stamped up to +3
    committer, ack, engine = make_committer(url, store)
    committer.commit([msg(mid, {"p": mid}) for mid in range(1, 101)])  # 100 messages, one second, no ts
    committer.commit([msg(101, {"p": 101})])
    engine.dispose()
    stored = [(r.ts, r.power) for batch in store.batches for r in batch]
    assert stored == [(int(NOW) + 3 + mid, float(mid)) for mid in range(1, 102)]  # once each, in order
    assert [mid for mid, _qos, _writes in ack.acks] == list(range(1, 102))
    assert store.asked_latest == ["n1"]  # where n1's seconds continue: asked once, not on each retry
    assert committer.arrivals.last("n1") == int(NOW) + 104
    assert committer.stats.totals.untimed == 101 and committer.stats.totals.duplicates == 0


def test_a_store_without_queries_is_not_asked_where_seconds_continue(daemon_parts: tuple[str, Path]) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=0, newest={"n1": int(NOW) + 3})
    store.check_existing = False  # type: ignore[attr-defined]  # InfluxDB without Flux
    committer, _ack, engine = make_committer(url, store)
    committer.commit([msg(1, {"p": 1})])
    engine.dispose()
    assert store.asked_latest == [] and store.batches[0][0].ts == int(NOW)


# ---- the users database: side records are best effort, the node list is needed ------------

def operational(code: int, text: str) -> OperationalError:
    return OperationalError("INSERT INTO rejected_messages ...", {}, Exception(code, text))


def test_side_records_wait_in_memory_while_the_users_database_is_away(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=0)
    committer, ack, engine = make_committer(url, store)
    real_record = users_db.record
    calls: list[int] = []

    def record_once_away(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise operational(2006, "MySQL server has gone away")
        real_record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "record", record_once_away)
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 1, "rssi": -50}), msg(2, b"NaN"),
                      msg(3, b"online", kind="status")])
    assert [r.ts for r in store.batches[0]] == [1_749_999_000]
    assert [mid for mid, *_ in ack.acks] == [1, 2, 3]  # readings stored and every message acked
    assert "users database unavailable" in caplog.text and "1 dead letters, 1 statuses and 1 health reports kept" in caplog.text
    sessions = make_session_factory(engine)
    assert recent_rejections(sessions) == []
    committer.commit([msg(4, {"ts": 1_749_999_001, "p": 2})])  # the database is back
    assert [r.reason for r in recent_rejections(sessions)] == ["bad_json"]
    with sessions() as session:
        assert session.scalars(select(Node.last_status).where(Node.node_id == "n1")).one() == "online"
        assert session.scalars(select(NodeHealth.rssi)).all() == [-50]
    engine.dispose()


def test_a_side_record_the_database_refuses_for_good_is_dropped_and_the_rest_recorded(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=0)
    committer, ack, engine = make_committer(url, store)
    real_record = users_db.record

    def refuse_one_excerpt(factory: object, letters: list[DeadLetter], statuses: list[object], keep: users_db.Keep | None = None,
                           health: object = None) -> None:
        if any("refuse-me" in d.rejection.excerpt for d in letters):
            raise operational(1366, "Incorrect string value: '\\xE4\\xB8\\xAD' for column `excerpt`")
        real_record(factory, letters, statuses, keep or users_db.Keep(), health)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "record", refuse_one_excerpt)
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 1}), msg(2, b'"refuse-me"'), msg(3, b"[1]")])
    assert [r.ts for r in store.batches[0]] == [1_749_999_000]
    assert [mid for mid, *_ in ack.acks] == [1, 2, 3]
    assert [r.reason for r in recent_rejections(make_session_factory(engine))] == ["not_object"]
    assert "the users database refused a dead letter of node n1, dropped" in caplog.text
    assert "Incorrect string value" in caplog.text
    committer.commit([msg(4, b"[2]")])  # nothing is carried over: the refused one is not tried again
    assert len(recent_rejections(make_session_factory(engine))) == 2
    engine.dispose()


def test_without_a_node_list_the_batch_waits_for_the_users_database_and_says_which_side_failed(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="enertrack.ingest.daemon")
    url, _ = daemon_parts
    real_load = users_db.load_node_params
    failures = [operational(2003, "Can't connect to MySQL server")] * 2

    def load_after_two_failures(factory: object) -> dict[str, EnergyParams]:
        if failures:
            raise failures.pop()
        return real_load(factory)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "load_node_params", load_after_two_failures)
    store = FlakyStore(failures=0)
    clock = Clock()
    committer, ack, engine = make_committer(url, store, clock=clock)
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 1})])
    assert "users database unavailable for" in caplog.text and "time-series store" not in caplog.text
    assert "users database available again" in caplog.text
    assert [r.ts for r in store.batches[0]] == [1_749_999_000] and ack.acks == [(1, 1, 1)]
    # With a node list loaded, a users database that goes away does not hold readings back.
    failures.append(operational(2006, "MySQL server has gone away"))
    clock.now += committer.directory.refresh_s  # due for a refresh
    caplog.clear()
    committer.commit([msg(2, {"ts": 1_749_999_001, "p": 2})])
    engine.dispose()
    assert "cannot refresh the node list" in caplog.text and "unavailable for" not in caplog.text
    assert [r.ts for r in store.batches[1]] == [1_749_999_001] and ack.acks[-1] == (2, 1, 2)


def test_a_time_series_outage_is_named_as_such(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="enertrack.ingest.daemon")
    url, _ = daemon_parts
    committer, _ack, engine = make_committer(url, FlakyStore(failures=1))
    committer.commit([msg(1, {"ts": 1_749_999_000, "p": 1})])
    engine.dispose()
    assert "time-series store unavailable for 0 s (disk full)" in caplog.text
    assert "time-series store available again" in caplog.text


@pytest.mark.parametrize(("error", "transient"), [
    (operational(2006, "MySQL server has gone away"), True),
    (operational(2013, "Lost connection to MySQL server during query"), True),
    (OperationalError("x", {}, sqlite3.OperationalError("database is locked")), True),
    (operational(1366, "Incorrect string value"), False),
    (operational(1406, "Data too long"), False),
    (DataError("x", {}, Exception(1406, "Data too long for column 'excerpt'")), False),
    (IntegrityError("x", {}, Exception(1062, "Duplicate entry")), False),
    (ValueError("not a database error"), False),
])
def test_transient_users_database_errors_are_told_from_data_errors(error: Exception, transient: bool) -> None:
    assert users_db.is_transient(error) is transient
