"""The daemon's pure parts: batching, acks, node directory, stats, throttling, knobs; and its commit rule."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from enertrack.config import load_settings
from enertrack.db import make_engine, make_session_factory
from enertrack.energy import EnergyParams
from enertrack.ingest import Daemon, batch_limit, config_warnings, reconnect_delay_s
from enertrack.store.base import StoreUnavailable, WriteResult
from enertrack.telemetry.batcher import Batcher, Inbound, ackable, plan_batch
from enertrack.telemetry.directory import NodeDirectory
from enertrack.telemetry.payload import Reason
from enertrack.telemetry.reading import Reading
from enertrack.telemetry.stats import IngestStats, Throttle
from tests.ingest_process import make_users_db

NOW = 1_750_000_000.0


def msg(mid: int, payload: object, node: str = "n1", *, generation: int = 1, kind: str = "telemetry",
        qos: int = 1) -> Inbound:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Inbound(mid, f"enertrack/{node}/{kind}", raw, NOW, False, generation, qos)


# ---- batching -----------------------------------------------------------------------------

def test_batch_closes_when_full() -> None:
    batcher = Batcher(max_size=3, max_age_s=10, idle_s=10)
    for i in range(3):
        assert not batcher.due(NOW)
        batcher.add(msg(i, {"p": i}), NOW)
    assert batcher.full() and batcher.due(NOW)
    assert [m.mid for m in batcher.take()] == [0, 1, 2]
    assert len(batcher) == 0 and batcher.wait_s(NOW) is None


def test_batch_closes_when_old_even_if_messages_keep_coming() -> None:
    batcher = Batcher(max_size=100, max_age_s=0.2, idle_s=0.05)
    t = NOW
    for i in range(6):
        batcher.add(msg(i, {"p": i}), t)
        t += 0.04  # faster than the idle gap
    assert batcher.due(NOW + 0.2) and not batcher.due(NOW + 0.19)


def test_batch_closes_when_the_stream_pauses() -> None:
    batcher = Batcher(max_size=100, max_age_s=1.0, idle_s=0.02)
    batcher.add(msg(1, {"p": 1}), NOW)
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


def test_stats_line_reports_rates_reasons_latency_queue_and_starts_a_new_window() -> None:
    stats = IngestStats(NOW)
    stats.received(120)
    stats.committed(stored=100, duplicates=5, statuses=1, ignored_keys=2,
                    rejected=Counter({"bad_json": 10, "unknown_node": 4}), latency_s=0.010)
    stats.committed(stored=0, duplicates=0, statuses=0, ignored_keys=0, rejected=Counter(), latency_s=0.030)
    stats.reconnected()
    stats.queue_depth(40)
    stats.queue_depth(12)
    line = stats.line(NOW + 60, 7, 10_000)
    assert line == ("stats: 2.0 msg/s, received 120, stored 100, duplicates 5, statuses 1, rejected 14 "
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

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.batches: list[list[Reading]] = []
        self.params: list[Mapping[str, EnergyParams]] = []

    def write(self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None) -> WriteResult:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("disk full")
        self.batches.append(list(readings))
        self.params.append(dict(params or {}))
        return WriteResult(len(readings), 0)


class RecordingClient:
    def __init__(self, store: FlakyStore) -> None:
        self.store = store
        self.acks: list[tuple[int, int, int]] = []  # (mid, qos, batches stored when acked)

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append((mid, qos, len(self.store.batches)))


@pytest.fixture
def daemon_parts(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    make_users_db(url, ["n1"], interval_s=15)
    return url, tmp_path


def test_commit_retries_an_unavailable_store_and_acks_only_after_the_write(
    daemon_parts: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = daemon_parts
    monkeypatch.setattr("enertrack.ingest.wait_exponential", lambda **_kw: lambda _state: 0.0)
    settings = load_settings(check=False, DATABASE_URL=url, MQTT_TLS=False)
    store = FlakyStore(failures=3)
    engine = make_engine(url)
    daemon = Daemon(settings, store, make_session_factory(engine))  # type: ignore[arg-type]
    client = RecordingClient(store)
    daemon.client = client  # type: ignore[assignment]
    daemon._generation = 1
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
    monkeypatch.setattr("enertrack.ingest.wait_exponential", lambda **_kw: lambda _state: 0.0)
    monkeypatch.setattr("enertrack.ingest.STOP_GRACE_S", 0.0)
    settings = load_settings(check=False, DATABASE_URL=url, MQTT_TLS=False)
    store = FlakyStore(failures=10**9)
    engine = make_engine(url)
    daemon = Daemon(settings, store, make_session_factory(engine))  # type: ignore[arg-type]
    client = RecordingClient(store)
    daemon.client = client  # type: ignore[assignment]
    daemon.stop("test")
    for i in range(3):
        daemon.queue.put(msg(10 + i, {"p": i}))
    daemon._commit([msg(1, {"p": 1})])
    assert client.acks == [] and store.batches == []
    daemon._writer()  # returns at once: the rest is left to the broker, not tried one batch at a time
    engine.dispose()
    assert client.acks == [] and store.batches == [] and daemon.queue.qsize() == 3
