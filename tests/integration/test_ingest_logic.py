"""The daemon's pure parts: batching, acks, node directory, stats, throttling, knobs; and its commit rule."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from enertrack.config import load_settings
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest.batcher import Batcher, DeadLetter, Inbound, Plan, ackable, plan_batch
from enertrack.ingest.daemon import Daemon, batch_limit, config_warnings, reconnect_delay_s, users_db
from enertrack.ingest.directory import NodeDirectory
from enertrack.ingest.handover import Handover
from enertrack.ingest.isolate import write_isolating
from enertrack.ingest.payload import MAX_PAYLOAD_BYTES, Reason, Rejection
from enertrack.ingest.stats import IngestStats, Throttle
from enertrack.ingest.users_db import recent_rejections
from enertrack.models import Node
from enertrack.store.base import StoreRejected, StoreUnavailable, WriteResult
from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import Answer, Request, serve
from tests.ingest_process import make_users_db

NOW = 1_750_000_000.0


def msg(mid: int, payload: object, node: str = "n1", *, generation: int = 1, kind: str = "telemetry",
        qos: int = 1) -> Inbound:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Inbound(mid, f"enertrack/{node}/{kind}", raw, NOW, False, generation, qos)


# ---- what the network thread hands over, and what the daemon logs ----------------------------

def test_the_hand_over_keeps_only_enough_of_an_oversized_topic_or_payload_to_reject_it(
    daemon_parts: tuple[str, Path],
) -> None:
    # The queue counts messages, not bytes: 64 KiB topics and payloads must not fill it.
    url, _ = daemon_parts
    daemon, _client, engine = make_daemon(url, FlakyStore(failures=0))
    engine.dispose()
    sent = [(b"enertrack/n1/" + b"x" * 60_000, b'{"p": 1}'), (b"enertrack/n1/telemetry", b"{" + b" " * 60_000 + b"}"),
            (b"enertrack/n1/telemetry", b'{"p": 1}')]
    for mid, (topic, payload) in enumerate(sent, 1):
        message = mqtt.MQTTMessage(mid, topic)
        message.payload = payload
        daemon._on_message(None, None, message)  # type: ignore[arg-type]
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
    daemon, _client, engine = make_daemon(url, FlakyStore(failures=0))
    engine.dispose()
    rejection = Rejection(Reason.STORE_REJECTED, "the store said: \x1b[2J\nFAKE LOG LINE", "n1\x1b]0;owned\x07",
                          "{\\x1b}\x9b")
    daemon._log_rejections(Plan(dead_letters=[DeadLetter(rejection, "enertrack/n1\r/telemetry", NOW)]))
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
    assert line.isprintable(), line
    assert "n1\\x1b]0;owned\\x07" in line and "\\x1b[2J\\nFAKE LOG LINE" in line


# ---- batching -----------------------------------------------------------------------------

def test_batch_closes_when_full_and_says_how_much_room_is_left() -> None:
    batcher = Batcher(max_size=3, max_age_s=10, idle_s=10)
    batcher.extend([], NOW)
    assert batcher.wait_s(NOW) is None and batcher.room() == 3  # nothing added opens no batch
    for i in range(3):
        assert not batcher.due(NOW)
        batcher.extend([msg(i, {"p": i})], NOW)
    assert batcher.full() and batcher.due(NOW) and batcher.room() == 0
    assert [m.mid for m in batcher.take()] == [0, 1, 2]
    assert len(batcher) == 0 and batcher.wait_s(NOW) is None


def test_batch_closes_when_old_even_if_messages_keep_coming() -> None:
    batcher = Batcher(max_size=100, max_age_s=0.2, idle_s=0.05)
    t = NOW
    for i in range(6):
        batcher.extend([msg(i, {"p": i})], t)
        t += 0.04  # faster than the idle gap
    assert batcher.due(NOW + 0.2) and not batcher.due(NOW + 0.19)


def test_batch_closes_when_the_stream_pauses() -> None:
    batcher = Batcher(max_size=100, max_age_s=1.0, idle_s=0.02)
    batcher.extend([msg(1, {"p": 1})], NOW)
    assert batcher.wait_s(NOW) == pytest.approx(0.02)
    assert not batcher.due(NOW + 0.01)
    assert batcher.due(NOW + 0.021)


def test_only_mids_of_the_current_connection_are_acked() -> None:
    messages = [msg(1, {"p": 1}, generation=1), msg(2, {"p": 2}, generation=2), msg(3, {"p": 3}, generation=2, qos=0)]
    assert ackable(messages, 2) == [2]
    assert ackable(messages, 3) == []


def test_plan_keeps_the_first_of_a_repeated_node_and_ts_and_sorts_outcomes() -> None:
    known = {"n1"}.__contains__
    plan = plan_batch([
        msg(1, {"ts": 1_749_999_000, "p": 1, "rssi": -50}),
        msg(2, {"ts": 1_749_999_000, "p": 2}),
        msg(3, b"online", kind="status"),
        msg(4, {"p": 1}, node="ghost"),
        msg(5, b"[1]"),
    ], "enertrack", known)
    assert plan.readings == [Reading("n1", 1_749_999_000, power=1.0)]
    assert plan.duplicates_in_batch == 1 and plan.ignored_keys == 1
    assert [s.status for s in plan.statuses] == ["online"]
    assert [(d.rejection.reason, d.topic) for d in plan.dead_letters] == [
        (Reason.UNKNOWN_NODE, "enertrack/ghost/telemetry"), (Reason.NOT_OBJECT, "enertrack/n1/telemetry")]


# ---- the hand-over between the network thread and the writer --------------------------------

def test_handover_gives_items_in_order_at_most_as_many_as_asked() -> None:
    handover: Handover[int] = Handover(maxsize=10)
    assert all(handover.put(i, timeout=0) for i in range(7))
    assert handover.take(5, timeout=0) == [0, 1, 2, 3, 4]
    assert handover.take(5, timeout=0) == [5, 6]
    assert handover.take(5, timeout=0) == [] and len(handover) == 0


def test_handover_is_bounded_and_a_take_makes_room_for_a_waiting_put() -> None:
    handover: Handover[int] = Handover(maxsize=3)
    assert all(handover.put(i, timeout=0) for i in range(3))
    assert not handover.put(3, timeout=0.05) and len(handover) == 3  # full: the caller is told
    put_done = threading.Event()
    waiter = threading.Thread(target=lambda: handover.put(3, timeout=10) and put_done.set())
    waiter.start()
    assert not put_done.wait(0.1)  # still waiting for room
    assert handover.take(2, timeout=0) == [0, 1]
    assert put_done.wait(5)
    waiter.join()
    assert handover.take(10, timeout=0) == [2, 3]


def test_handover_take_waits_for_the_first_item_or_gives_up() -> None:
    handover: Handover[str] = Handover(maxsize=3)
    assert handover.take(3, timeout=0.05) == []
    got: list[list[str]] = []
    taker = threading.Thread(target=lambda: got.append(handover.take(3, timeout=30)))
    taker.start()
    deadline = time.monotonic() + 5
    while not handover._taker_waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    handover.put("late", timeout=0)
    taker.join(5)  # woken by the put, not by its 30 s timeout
    assert got == [["late"]]


# ---- node directory -------------------------------------------------------------------------

def test_directory_refreshes_periodically_and_on_a_miss_at_most_every_few_seconds() -> None:
    directory = NodeDirectory(refresh_s=60, miss_refresh_s=5)
    assert directory.needs_refresh([], NOW)  # never loaded
    directory.replace({"n1": EnergyParams(interval_s=30)}, NOW)
    assert directory.known("n1") and not directory.known("n2")
    assert directory.params(["n1", "n2"]) == {"n1": EnergyParams(interval_s=30)}
    assert not directory.needs_refresh(["n1"], NOW + 10)
    assert not directory.needs_refresh(["n2"], NOW + 4)  # a miss, but too soon
    assert directory.needs_refresh(["n2"], NOW + 5)
    assert directory.needs_refresh(["n1"], NOW + 60)


# ---- stats and throttling ------------------------------------------------------------------

def test_throttle_allows_one_per_interval_and_counts_the_rest() -> None:
    throttle = Throttle(60)
    assert throttle.allow("a", NOW) == (True, 0)
    assert throttle.allow("a", NOW + 1) == (False, 0)
    assert throttle.allow("a", NOW + 2) == (False, 0)
    assert throttle.allow("b", NOW + 2) == (True, 0)
    assert throttle.allow("a", NOW + 60) == (True, 2)


def test_throttle_forgets_quiet_keys_and_their_held_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("enertrack.ingest.stats.MAX_KEYS", 3)
    throttle = Throttle(60)
    for key in ("a", "b", "c"):  # node ids from the network: each a new key
        throttle.allow(key, NOW)
        throttle.allow(key, NOW + 1)  # held back
    assert len(throttle._held) == 3
    throttle.allow("d", NOW + 100)  # the fourth key: the quiet ones are forgotten, with what they held
    assert set(throttle._last) == {"d"} and not throttle._held
    assert throttle.allow("a", NOW + 101) == (True, 0)


def test_stats_line_reports_rates_reasons_latency_queue_and_starts_a_new_window() -> None:
    stats = IngestStats(NOW)
    stats.received(120)
    stats.committed(stored=100, duplicates=5, statuses=1, ignored_keys=2,
                    rejected=Counter({"bad_json": 10, "unknown_node": 4}), latency_s=0.010, untimed=3)
    stats.committed(stored=0, duplicates=0, statuses=0, ignored_keys=0, rejected=Counter(), latency_s=0.030)
    stats.reconnected()
    stats.queue_depth(40)
    stats.queue_depth(12)
    line = stats.line(NOW + 60, 7, 10_000)
    assert line == ("stats: 2.0 msg/s, received 120, stored 100, without ts 3, duplicates 5, statuses 1, rejected 14 "
                    "(bad_json 10, unknown_node 4), ignored keys 2, batches 2 (avg 60.0 msg, latency avg "
                    "20.0 ms max 30.0 ms), queue 7/10000 (peak 40), reconnects 1, store retries 0")
    assert stats.line(NOW + 120, 0, 10_000).startswith("stats: 0.0 msg/s, received 0, stored 0")
    assert "received 120, stored 100" in stats.line(NOW + 120, 0, 10_000, total=True)


# ---- knobs ----------------------------------------------------------------------------------

def test_batches_never_exceed_the_broker_window_and_the_daemon_says_so() -> None:
    settings = load_settings(check=False, INGEST_BATCH_SIZE=500, MQTT_MAX_INFLIGHT=20)
    assert batch_limit(settings) == 20
    warnings = config_warnings(settings)
    assert len(warnings) == 1 and "capped at 20" in warnings[0] and "max_inflight_messages" in warnings[0]
    assert config_warnings(load_settings(check=False, INGEST_BATCH_SIZE=500, MQTT_MAX_INFLIGHT=1000)) == []
    small_queue = load_settings(check=False, INGEST_QUEUE_MAX=100, MQTT_MAX_INFLIGHT=1000, INGEST_BATCH_SIZE=50)
    assert "INGEST_QUEUE_MAX=100" in config_warnings(small_queue)[0]


def test_reconnect_backoff_doubles_up_to_a_minute() -> None:
    assert [reconnect_delay_s(n) for n in (1, 2, 3, 4, 7, 50)] == [1, 2, 4, 8, 60, 60]


# ---- the commit rule: ack only after both writes succeeded ---------------------------------

class FlakyStore:
    """A store that is unavailable for its first `failures` writes."""

    def __init__(self, failures: int, newest: Mapping[str, int] | None = None) -> None:
        self.failures = failures
        self.batches: list[list[Reading]] = []
        self.params: list[Mapping[str, EnergyParams]] = []
        self.newest = dict(newest or {})  # node -> ts of its newest stored reading, before this test
        self.asked_latest: list[str] = []

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        self.asked_latest.extend(node_ids)
        return {n: Reading(n, self.newest[n], power=1.0) for n in node_ids if n in self.newest}

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("disk full")
        self.batches.append(list(readings))
        self.params.append(dict(params or {}))
        return WriteResult(len(readings), 0)


class RecordingClient:
    def __init__(self, progress: Callable[[], int]) -> None:
        self.progress = progress
        self.acks: list[tuple[int, int, int]] = []  # (mid, qos, writes done when acked)

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append((mid, qos, self.progress()))


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


def make_daemon(
    url: str, store: object, progress: Callable[[], int] | None = None
) -> tuple[Daemon, RecordingClient, Engine]:
    """A daemon on the users database at url and store, acking into a RecordingClient.

    progress counts the writes done so far (default: the batches a FlakyStore took).
    """
    settings = load_settings(check=False, DATABASE_URL=url, MQTT_TLS=False)
    engine = make_engine(url)
    daemon = Daemon(settings, store, make_session_factory(engine))  # type: ignore[arg-type]
    client = RecordingClient(progress or (lambda: len(store.batches)))  # type: ignore[attr-defined]
    daemon.client = client  # type: ignore[assignment]
    daemon._generation = 1
    return daemon, client, engine


def test_commit_retries_an_unavailable_store_and_acks_only_after_the_write(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    store = FlakyStore(failures=3)
    daemon, client, engine = make_daemon(url, store)
    daemon._commit([msg(1, {"ts": 1_749_999_000, "p": 1}), msg(2, b"NaN"), msg(3, {"p": 2}, node="ghost")])
    engine.dispose()
    assert [len(b) for b in store.batches] == [1]
    assert store.params == [{"n1": EnergyParams(interval_s=15)}]
    assert client.acks == [(1, 1, 1), (2, 1, 1), (3, 1, 1)]  # rejected ones acked too, all after the write
    assert daemon.stats.totals.store_retries == 3
    assert daemon.stats.totals.rejected == Counter({"bad_json": 1, "unknown_node": 1})


def test_a_stop_during_an_outage_leaves_everything_unacknowledged(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    monkeypatch.setattr("enertrack.ingest.daemon.STOP_GRACE_S", 0.0)
    store = FlakyStore(failures=10**9)
    daemon, client, engine = make_daemon(url, store)
    daemon.stop("test")
    for i in range(3):
        assert daemon.queue.put(msg(10 + i, {"p": i}), timeout=0)
    daemon._commit([msg(1, {"p": 1})])
    assert client.acks == [] and store.batches == []
    daemon._writer()  # returns at once: the rest is left to the broker, not tried one batch at a time
    engine.dispose()
    assert client.acks == [] and store.batches == [] and len(daemon.queue) == 3


# ---- readings the store refuses (StoreRejected): isolate them, store the rest, ack all ------

SERVER_REFUSAL = "failure writing points to database: partial write: points beyond retention policy dropped=1"
REFUSAL = f"InfluxDB rejected the request (422) while writing 1 readings to bucket 'b': {SERVER_REFUSAL}"


@pytest.mark.parametrize(("size", "refused"), [
    (1, set()), (1, {0}), (8, set()), (8, {3}), (8, {0, 7}), (9, {1, 2, 3}), (16, set(range(16))),
    (500, {17, 250, 251, 499}),
])
def test_write_isolating_stores_all_but_the_refused_readings_once_each_in_order(
    size: int, refused: set[int]
) -> None:
    readings = [Reading("n1", 1_749_999_000 + i, power=float(i)) for i in range(size)]
    written: list[Reading] = []

    def write(part: Sequence[Reading]) -> WriteResult:
        if any(int(r.power or 0) in refused for r in part):
            raise StoreRejected(REFUSAL)
        written.extend(part)
        return WriteResult(len(part), 0)

    outcome = write_isolating(write, readings)
    assert written == [r for i, r in enumerate(readings) if i not in refused]
    assert [f.index for f in outcome.refused] == sorted(refused)
    assert all(str(f.error) == REFUSAL for f in outcome.refused)
    assert (outcome.stored, outcome.duplicates) == (size - len(refused), 0)
    assert outcome.writes == 1 if not refused else outcome.writes <= 2 * size - 1


def test_one_refusal_in_a_batch_costs_two_writes_per_halving() -> None:
    readings = [Reading("n1", 1_749_999_000 + i, power=float(i)) for i in range(512)]

    def write(part: Sequence[Reading]) -> WriteResult:
        if any(r.power == 300.0 for r in part):
            raise StoreRejected(REFUSAL)
        return WriteResult(len(part), 0)

    outcome = write_isolating(write, readings)
    assert [f.index for f in outcome.refused] == [300]
    assert outcome.writes == 1 + 2 * 9  # 512 -> 1 in nine halvings


def test_write_isolating_leaves_an_unavailable_store_to_the_caller() -> None:
    calls: list[int] = []

    def write(part: Sequence[Reading]) -> WriteResult:
        calls.append(len(part))
        raise StoreRejected(REFUSAL) if len(calls) == 1 else StoreUnavailable("down")

    with pytest.raises(StoreUnavailable):
        write_isolating(write, [Reading("n1", 1_749_999_000 + i, power=1.0) for i in range(4)])
    assert calls == [4, 2]
    assert write_isolating(write, []).writes == 0


class RefusingStore(FlakyStore):
    """Refuses (StoreRejected) every write holding a reading whose power is in `refused`."""

    def __init__(self, refused: set[float]) -> None:
        super().__init__(failures=0)
        self.refused = refused

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        if any(r.power in self.refused for r in readings):
            raise StoreRejected(REFUSAL)
        return super().write(readings, params)


def test_readings_the_store_refuses_are_dead_lettered_the_rest_stored_and_every_message_acked(
    daemon_parts: tuple[str, Path],
) -> None:
    url, _ = daemon_parts
    store = RefusingStore({666.0, 667.0})
    daemon, client, engine = make_daemon(url, store)
    powers = {1: 1.0, 2: 2.0, 3: 666.0, 4: 4.0, 5: 5.0, 6: 667.0, 7: 7.0, 8: 8.0}
    messages = [msg(mid, {"ts": 1_749_999_000 + mid, "p": p}) for mid, p in powers.items()]
    daemon._commit([*messages, msg(9, b"NaN")])  # would raise StoreRejected and kill the writer
    rejections = recent_rejections(make_session_factory(engine))
    engine.dispose()
    stored = sorted((r.ts, r.power) for batch in store.batches for r in batch)
    assert stored == [(1_749_999_000 + mid, p) for mid, p in powers.items() if p < 600]
    writes_done = len(store.batches)
    assert client.acks == [(mid, 1, writes_done) for mid in range(1, 10)]  # all, after every write
    refused = [r for r in rejections if r.reason == "store_rejected"]
    assert sorted((r.node_id, r.topic, r.excerpt) for r in refused) == [
        ("n1", "enertrack/n1/telemetry", json.dumps({"ts": 1_749_999_003, "p": 666.0})),
        ("n1", "enertrack/n1/telemetry", json.dumps({"ts": 1_749_999_006, "p": 667.0})),
    ]
    assert all(r.message.startswith("valid, but the time-series store refused it") and r.message.endswith(REFUSAL) for r in refused)
    assert daemon.stats.totals.rejected == Counter({"store_rejected": 2, "bad_json": 1})
    assert daemon.stats.totals.stored == 6


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
        daemon, client, engine = make_daemon(url, store, lambda: len(server.sent("/api/v2/write")))
        powers = [float(p) for p in range(1, 41)]
        powers[12] = 666.0
        daemon._commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": p}) for mid, p in enumerate(powers, 1)])
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
    assert client.acks == [(mid, 1, writes_done) for mid in range(1, 41)]  # all, after every write
    assert [(r.reason, r.node_id) for r in rejections] == [("store_rejected", "n1")]
    assert rejections[0].message.endswith(f"InfluxDB rejected the request (422) while writing 1 readings "
                                          f"to bucket 'bucket': {SERVER_REFUSAL}")
    assert rejections[0].excerpt == json.dumps({"ts": 1_749_999_013, "p": 666.0})
    assert daemon.stats.totals.rejected == Counter({"store_rejected": 1})


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
        daemon, client, engine = make_daemon(url, store, lambda: len(server.sent("/api/v2/write")))
        stale = {1: ("n1", 1_610_000_001), 2: ("n2", 1_610_000_002)}
        fresh = {3: ("n1", 1_749_999_003), 4: ("n2", 1_749_999_004)}
        for mid, (node, ts) in stale.items():  # queued before the writer starts: one batch
            daemon.queue.put(msg(mid, {"ts": ts, "p": mid}, node=node), timeout=1)
        writer = threading.Thread(target=daemon._writer, name="test-writer", daemon=True)
        writer.start()
        stale_acked = wait_until(lambda: len(client.acks) >= 2, timeout=10)
        for mid, (node, ts) in fresh.items():
            daemon.queue.put(msg(mid, {"ts": ts, "p": mid}, node=node), timeout=1)
        all_acked = stale_acked and wait_until(lambda: len(client.acks) >= 4, timeout=10)
        writes = server.sent("/api/v2/write")
    finally:
        if writer is not None:
            daemon.stop()
            daemon._stop_deadline = 0  # a writer still retrying gives up now
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
    daemon, client, engine = make_daemon(url, store, lambda: 0)
    daemon._commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": mid}) for mid in (1, 2, 3)])
    rejections = recent_rejections(make_session_factory(engine))
    engine.dispose()
    assert [mid for mid, *_ in client.acks] == [1, 2, 3]
    assert [r.reason for r in rejections] == ["store_rejected"] * 3


def test_a_proxy_answering_400_in_front_of_influxdb_loses_nothing(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misconfigured reverse proxy answers 400 with its own page, not InfluxDB's error JSON:
    # the batch is held and retried, never split up and dead-lettered.
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    fake = serve()
    server = next(fake)
    try:
        page = Answer(400, b"<html><body><h1>400 Bad Request</h1></body></html>\r\n", {"Content-Type": "text/html"})
        server.answer("/api/v2/write", page, page, Answer(204))
        server.answer("/api/v2/query", Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"}))
        store = InfluxStore(server.url, "token", "org", "bucket", timeout_ms=2000)
        daemon, client, engine = make_daemon(url, store, lambda: len(server.sent("/api/v2/write")))
        daemon._commit([msg(mid, {"ts": 1_749_999_000 + mid, "p": mid}) for mid in (1, 2, 3)])
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
    assert client.acks == [(mid, 1, 3) for mid in (1, 2, 3)]
    assert daemon.stats.totals.store_retries == 2


# ---- readings without ts through the commit ---------------------------------------------------

def test_an_untimed_backlog_is_stored_in_full_with_the_same_seconds_on_a_retry(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    store = FlakyStore(failures=2, newest={"n1": int(NOW) + 3})  # a previous run stamped up to +3
    daemon, client, engine = make_daemon(url, store)
    daemon._commit([msg(mid, {"p": mid}) for mid in range(1, 101)])  # 100 messages, one second, no ts
    daemon._commit([msg(101, {"p": 101})])
    engine.dispose()
    stored = [(r.ts, r.power) for batch in store.batches for r in batch]
    assert stored == [(int(NOW) + 3 + mid, float(mid)) for mid in range(1, 102)]  # once each, in order
    assert [mid for mid, _qos, _writes in client.acks] == list(range(1, 102))
    assert store.asked_latest == ["n1"]  # where n1's seconds continue: asked once, not on each retry
    assert daemon.arrivals.last("n1") == int(NOW) + 104
    assert daemon.stats.totals.untimed == 101 and daemon.stats.totals.duplicates == 0


def test_a_store_without_queries_is_not_asked_where_seconds_continue(daemon_parts: tuple[str, Path]) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=0, newest={"n1": int(NOW) + 3})
    store.check_existing = False  # type: ignore[attr-defined]  # InfluxDB without Flux
    daemon, _client, engine = make_daemon(url, store)
    daemon._commit([msg(1, {"p": 1})])
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
    daemon, client, engine = make_daemon(url, store)
    real_record = users_db.record
    calls: list[int] = []

    def record_once_away(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise operational(2006, "MySQL server has gone away")
        real_record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "record", record_once_away)
    daemon._commit([msg(1, {"ts": 1_749_999_000, "p": 1}), msg(2, b"NaN"), msg(3, b"online", kind="status")])
    assert [r.ts for r in store.batches[0]] == [1_749_999_000]
    assert [mid for mid, *_ in client.acks] == [1, 2, 3]  # readings stored and every message acked
    assert "users database unavailable" in caplog.text and "1 dead letters and 1 statuses kept" in caplog.text
    sessions = make_session_factory(engine)
    assert recent_rejections(sessions) == []
    daemon._commit([msg(4, {"ts": 1_749_999_001, "p": 2})])  # the database is back
    assert [r.reason for r in recent_rejections(sessions)] == ["bad_json"]
    with sessions() as session:
        assert session.scalars(select(Node.last_status).where(Node.node_id == "n1")).one() == "online"
    engine.dispose()


def test_a_side_record_the_database_refuses_for_good_is_dropped_and_the_rest_recorded(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = daemon_parts
    store = FlakyStore(failures=0)
    daemon, client, engine = make_daemon(url, store)
    real_record = users_db.record

    def refuse_one_excerpt(factory: object, letters: list[DeadLetter], statuses: list[object], keep: int = 1000) -> None:
        if any("refuse-me" in d.rejection.excerpt for d in letters):
            raise operational(1366, "Incorrect string value: '\\xE4\\xB8\\xAD' for column `excerpt`")
        real_record(factory, letters, statuses, keep)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "record", refuse_one_excerpt)
    daemon._commit([msg(1, {"ts": 1_749_999_000, "p": 1}), msg(2, b'"refuse-me"'), msg(3, b"[1]")])
    assert [r.ts for r in store.batches[0]] == [1_749_999_000]
    assert [mid for mid, *_ in client.acks] == [1, 2, 3]
    assert [r.reason for r in recent_rejections(make_session_factory(engine))] == ["not_object"]
    assert "the users database refused a dead letter of node n1, dropped" in caplog.text
    assert "Incorrect string value" in caplog.text
    daemon._commit([msg(4, b"[2]")])  # nothing is carried over: the refused one is not tried again
    assert len(recent_rejections(make_session_factory(engine))) == 2
    engine.dispose()


def test_without_a_node_list_the_batch_waits_for_the_users_database_and_says_which_side_failed(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="enertrack.ingest.daemon")
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    real_load = users_db.load_node_params
    failures = [operational(2003, "Can't connect to MySQL server")] * 2

    def load_after_two_failures(factory: object) -> dict[str, EnergyParams]:
        if failures:
            raise failures.pop()
        return real_load(factory)  # type: ignore[arg-type]

    monkeypatch.setattr(users_db, "load_node_params", load_after_two_failures)
    store = FlakyStore(failures=0)
    daemon, client, engine = make_daemon(url, store)
    daemon._commit([msg(1, {"ts": 1_749_999_000, "p": 1})])
    assert "users database unavailable for" in caplog.text and "time-series store" not in caplog.text
    assert "users database available again" in caplog.text
    assert [r.ts for r in store.batches[0]] == [1_749_999_000] and client.acks == [(1, 1, 1)]
    # With a node list loaded, a users database that goes away does not hold readings back.
    failures.append(operational(2006, "MySQL server has gone away"))
    daemon.directory._loaded_at = -1e18  # due for a refresh
    caplog.clear()
    daemon._commit([msg(2, {"ts": 1_749_999_001, "p": 2})])
    engine.dispose()
    assert "cannot refresh the node list" in caplog.text and "unavailable for" not in caplog.text
    assert [r.ts for r in store.batches[1]] == [1_749_999_001] and client.acks[-1] == (2, 1, 2)


def test_a_time_series_outage_is_named_as_such(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="enertrack.ingest.daemon")
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.daemon.wait_exponential", lambda **_kw: lambda _state: 0.0)
    daemon, _client, engine = make_daemon(url, FlakyStore(failures=1))
    daemon._commit([msg(1, {"ts": 1_749_999_000, "p": 1})])
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
