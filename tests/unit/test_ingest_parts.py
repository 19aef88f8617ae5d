"""The daemon's pure parts: batching, acks, the hand-over queue, node directory, stats, throttling, knobs, isolation."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence

import pytest

from enertrack.config import load_settings
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.ingest.batcher import Batcher, HealthReport, Inbound, ackable, plan_batch
from enertrack.ingest.daemon import batch_limit, config_warnings, reconnect_delay_s
from enertrack.ingest.directory import NodeDirectory
from enertrack.ingest.handover import Handover
from enertrack.ingest.isolate import write_isolating
from enertrack.ingest.payload import Health, Reason
from enertrack.ingest.stats import IngestStats, Throttle
from enertrack.store.base import StoreRejected, StoreUnavailable, WriteResult

NOW = 1_750_000_000.0
SERVER_REFUSAL = "failure writing points to database: partial write: points beyond retention policy dropped=1"
REFUSAL = f"InfluxDB rejected the request (422) while writing 1 readings to bucket 'b': {SERVER_REFUSAL}"


def msg(mid: int, payload: object, node: str = "n1", *, generation: int = 1, kind: str = "telemetry",
        qos: int = 1) -> Inbound:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Inbound(mid, f"enertrack/{node}/{kind}", raw, NOW, False, generation, qos)


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
        msg(1, {"ts": 1_749_999_000, "p": 1, "temp_c": 31}),
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


def test_a_batch_keeps_each_nodes_latest_health_value_by_value_and_counts_the_bad_ones() -> None:
    # The node measures its health when it sends: the last message received wins, whatever its ts.
    known = {"n1", "n2"}.__contains__
    plan = plan_batch([
        msg(1, {"ts": 1_749_999_010, "p": 1, "fw": "1.0.0", "rssi": -70, "uptime_s": 100, "buffered": 3}),
        msg(2, {"ts": 1_749_999_020, "p": 1, "rssi": -60, "uptime_s": 110, "buffered": "many"}),
        msg(3, {"ts": 1_749_999_000, "p": 1, "rssi": -99, "dropped": 7}),  # a replayed reading, sent last
        msg(4, {"ts": 1_749_999_000, "p": 1, "fw": "2.0.0", "rssi": 5}, node="n2"),
        msg(5, {"ts": 1_749_999_005, "p": 1}, node="n2"),
        msg(6, {"p": 1, "rssi": -1, "fw": "x" * 33}, node="ghost"),  # rejected: nothing of it kept
    ], "enertrack", known)
    assert len(plan.readings) == 5 and plan.bad_health == 2  # "many" and rssi 5; not the ghost's
    assert plan.health == {
        # Each value from the last message carrying it; buffered from the first (the second's was bad).
        "n1": HealthReport("n1", int(NOW), Health(fw="1.0.0", rssi=-99, uptime_s=110, dropped=7, buffered=3)),
        "n2": HealthReport("n2", int(NOW), Health(fw="2.0.0")),
    }


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
                    rejected=Counter({"bad_json": 10, "unknown_node": 4}), latency_s=0.010, untimed=3, bad_health=6)
    stats.committed(stored=0, duplicates=0, statuses=0, ignored_keys=0, rejected=Counter(), latency_s=0.030)
    stats.reconnected()
    stats.queue_depth(40)
    stats.queue_depth(12)
    line = stats.line(NOW + 60, 7, 10_000)
    assert line == ("stats: 2.0 msg/s, received 120, stored 100, without ts 3, duplicates 5, statuses 1, rejected 14 "
                    "(bad_json 10, unknown_node 4), ignored keys 2, bad diagnostics 6, batches 2 (avg 60.0 msg, latency avg "
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



# ---- readings the store refuses: isolated by halving ----------------------------------------

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
