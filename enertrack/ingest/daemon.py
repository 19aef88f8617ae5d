"""The MQTT ingest daemon: broker -> validated readings -> time-series store, acked after the durable write.

I/O edges only. Three threads:
- network: paho's loop; on_message only tags the message and puts it in a bounded queue;
- writer: batches (ingest.batcher) and hands each batch to the commit rule (ingest.committer:
  decode, write the store and the users database with retries, then acknowledge); it also
  prints the stats line;
- main: signals, then an orderly stop (commit what is in hand, ack, disconnect, exit 0).
docs/operations.md explains the knobs and the log lines.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import FrameType
from typing import TypeVar

import paho.mqtt.client as mqtt
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from enertrack.config import ConfigError, Settings, load_settings
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest import users_db
from enertrack.ingest.batcher import Batcher, Inbound, ackable
from enertrack.ingest.committer import SAY_ONCE_EVERY_S, Committer, RetryWait
from enertrack.ingest.directory import NodeDirectory
from enertrack.ingest.handover import Handover
from enertrack.ingest.payload import MAX_PAYLOAD_BYTES, topic_max
from enertrack.ingest.stats import IngestStats, Throttle
from enertrack.mqtt import make_client
from enertrack.store.base import TimeseriesStore

log = logging.getLogger("enertrack.ingest.daemon")
T = TypeVar("T")

STATS_EVERY_S = 60.0
STOP_GRACE_S = 20.0  # on SIGTERM, how long to keep retrying an unavailable store before leaving
# The network thread stops reading (and pinging) while the hand-over queue is full, which a
# healthy writer ends within one batch commit (well under a second); the broker drops a client
# silent for 1.5 keepalives, so 120 s rides out store hiccups too (docs/operations.md §4).
KEEPALIVE_S = 120
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 60.0
# SQLite page cache of the daemon's store connection. Appending touches every page of the file
# once, so an unbounded cache grows with the file (the web app's 64 MiB default would be reached);
# the writer only revisits each node's newest pages, and older ones stay in the OS's file cache.
WRITER_CACHE_MIB = 8


def reconnect_delay_s(failures: int) -> float:
    """Exponential backoff for connection attempts: 1, 2, 4 ... 60 s."""
    return min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2 ** max(failures - 1, 0))


def mqtt_client(settings: Settings) -> mqtt.Client:
    """The daemon's client: its fixed client id, a persistent session, acks sent by the daemon."""
    return make_client(settings, settings.mqtt_client_id, persistent=True, manual_ack=True)


def batch_limit(settings: Settings) -> int:
    """The batch size actually used: never above the broker's in-flight window."""
    return min(settings.ingest_batch_size, settings.mqtt_max_inflight)


def config_warnings(settings: Settings) -> list[str]:
    """Knob combinations that work but not as the operator probably meant."""
    found = []
    if settings.ingest_batch_size > settings.mqtt_max_inflight:
        found.append(
            f"INGEST_BATCH_SIZE={settings.ingest_batch_size} exceeds the broker's in-flight window "
            f"MQTT_MAX_INFLIGHT={settings.mqtt_max_inflight}: the broker is meant to lend a manual-ack subscriber "
            f"no more unacknowledged messages, so batches are capped at {settings.mqtt_max_inflight}. Raise the "
            "broker's max_inflight_messages (and MQTT_MAX_INFLIGHT) or lower INGEST_BATCH_SIZE."
        )
    if settings.ingest_queue_max < settings.mqtt_max_inflight:
        found.append(
            f"INGEST_QUEUE_MAX={settings.ingest_queue_max} is below MQTT_MAX_INFLIGHT="
            f"{settings.mqtt_max_inflight}: the network thread will wait for the writer (backpressure "
            "through TCP) instead of the broker holding the backlog."
        )
    return found


class Daemon:
    """One subscription, one writer; every message acknowledged only after it is durably handled."""

    def __init__(
        self,
        settings: Settings,
        store: TimeseriesStore,
        sessions: sessionmaker[Session],
        clock: Callable[[], float] = time.time,
        *,
        client_factory: Callable[[Settings], mqtt.Client] = mqtt_client,
        stop_grace_s: float = STOP_GRACE_S,
        retry_wait: RetryWait | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.stop_grace_s = stop_grace_s
        self.prefix = settings.mqtt_topic_prefix.rstrip("/")
        self._topic_keep = topic_max(self.prefix) + 1  # one character more: still bad_topic
        self.queue: Handover[Inbound] = Handover(settings.ingest_queue_max)
        self.batcher = Batcher(batch_limit(settings), settings.ingest_batch_ms / 1000)
        self.stats = IngestStats(clock())
        self.throttle = Throttle(SAY_ONCE_EVERY_S)
        self.committer = Committer(
            store, NodeDirectory(), self._ack, sessions=sessions, prefix=self.prefix, clock=clock,
            stats=self.stats, throttle=self.throttle, retry_wait=retry_wait,
            held=lambda: len(self.batcher) + len(self.queue),
        )
        self.stopping = threading.Event()
        self.writer_done = threading.Event()
        self._conn_lock = threading.Lock()
        self._generation = 0  # bumped on every successful connection
        # The broker's answer since the last disconnect: None (none yet: it closed the link during
        # the handshake, e.g. TLS), "accepted" (a lost link) or "refused" (already logged).
        self._connack: str | None = None
        self._connections = 0
        self.failed = False
        self._abandoned = False  # a stop gave up on an unavailable store: leave the rest to the broker
        self._next_stats = clock() + STATS_EVERY_S
        self.client = client_factory(settings)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_connect_fail = self._on_connect_fail
        # paho's threaded mode (loop_start): acks from the writer thread are queued and written by
        # paho's own thread, the only one touching the socket; it reconnects with exponential
        # backoff, the first connection included.
        self.client.reconnect_delay_set(int(RECONNECT_MIN_S), int(RECONNECT_MAX_S))
        self.client.suppress_exceptions = True  # a failing callback is logged, the loop goes on
        self.client.enable_logger(logging.getLogger("enertrack.ingest.daemon.paho"))
        self._unsubacks: set[int] = set()
        self._unsuback = threading.Condition()

    # ---- network thread -------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, _props: object) -> None:
        if reason.is_failure:
            with self._conn_lock:
                self._connack = "refused"  # paho calls on_disconnect next: nothing more to say there
            log.error("broker %s:%s refused the connection: %s (check MQTT_USR/MQTT_PASS and the "
                      "broker's password file)", self.settings.mqtt_host, self.settings.mqtt_port, reason)
            return
        with self._conn_lock:
            self._generation += 1
            self._connections += 1
            self._connack = "accepted"
        log.info("connected to %s:%s as %s (session present: %s)", self.settings.mqtt_host,
                 self.settings.mqtt_port, self.settings.mqtt_client_id, flags.session_present)
        # Subscribing again on a present session is harmless and covers a broker that lost it.
        client.subscribe([(f"{self.prefix}/+/telemetry", 1), (f"{self.prefix}/+/status", 1)])

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int,
                      reasons: list[mqtt.ReasonCode], _props: object) -> None:
        if any(r.is_failure for r in reasons):
            log.error("the broker refused the subscription to %s/+/telemetry and /status: give user "
                      "%s read access to %s/# in the broker's ACL", self.prefix, self.settings.mqtt_user,
                      self.prefix)

    def _on_unsubscribe(self, _client: mqtt.Client, _userdata: object, mid: int,
                        _reasons: list[mqtt.ReasonCode], _props: object) -> None:
        with self._unsuback:
            self._unsubacks.add(mid)
            self._unsuback.notify_all()

    def _flush_acks(self, timeout: float = 5.0) -> None:
        """Make sure the broker has processed every PUBACK sent so far, before disconnecting.

        A broker handles one client's packets in order, so its answer to a harmless
        request sent after the acks proves it has them. Without this round trip, closing
        the socket while the broker is still sending can reset the connection (TCP RST)
        and make the broker lose acks it had not read yet: they would be redelivered.
        """
        rc, mid = self.client.unsubscribe(f"{self.prefix}/ingest/flush")  # never subscribed: a no-op
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            return  # not connected: nothing in flight to lose
        with self._unsuback:
            if not self._unsuback.wait_for(lambda: mid in self._unsubacks, timeout):
                log.warning("the broker did not confirm the last acknowledgements within %.0f s; "
                            "it may redeliver a few messages (stored once anyway)", timeout)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object,
                       reason: mqtt.ReasonCode, _props: object) -> None:
        with self._conn_lock:
            connack, self._connack = self._connack, None
        if self.stopping.is_set() or connack == "refused":
            return
        if connack == "accepted":
            log.warning("disconnected from the broker (%s); unacknowledged messages will be "
                        "redelivered after reconnecting", reason)
        else:
            # The broker closed the link before accepting us: most often a TLS handshake it refused.
            log.error("broker %s:%s closed the connection before accepting it (%s): check MQTT_CA_FILE, "
                      "MQTT_CERT_FILE/MQTT_KEY_FILE if the broker requires a client certificate, and the "
                      "broker's log; retrying with backoff", self.settings.mqtt_host, self.settings.mqtt_port,
                      reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.stopping.is_set():
            return  # not acked: the broker redelivers it to the next run
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", errors="replace")  # noqa: SLF001 - paho exposes no raw accessor
        # The queue counts messages, not bytes: keep only enough of an oversized topic or payload
        # to reject it (bad_topic, too_large), so what it holds stays bounded whatever is sent.
        item = Inbound(msg.mid, topic[: self._topic_keep], bytes(msg.payload[: MAX_PAYLOAD_BYTES + 1]),
                       time.time(), bool(msg.retain), self._generation, msg.qos)
        while not self.stopping.is_set():
            if self.queue.put(item, timeout=0.5):
                return
            allowed, held = self.throttle.allow("queue-full", self.clock())
            if allowed:
                log.warning("queue full (%d): waiting for the writer; the broker keeps the rest",
                            self.settings.ingest_queue_max)

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        # paho calls this inside its `except OSError`, so the exception is at hand.
        error = sys.exc_info()[1] or "connection failed"
        allowed, held = self.throttle.allow("connect-failed", self.clock())
        if allowed:
            more = f" ({held} more failures since the last line)" if held else ""
            log.warning("cannot connect to %s:%s: %s; retrying with backoff up to %.0f s%s",
                        self.settings.mqtt_host, self.settings.mqtt_port, error, RECONNECT_MAX_S, more)

    # ---- writer thread ----------------------------------------------------------------

    def write_loop(self) -> None:
        """The writer thread: batch what the network thread hands over, commit each batch, until stopped."""
        try:
            while True:
                now = self.clock()
                if self._abandoned:
                    break
                if self.stopping.is_set() and not len(self.queue):
                    if len(self.batcher):
                        self._commit_batch(self.batcher.take())
                    break
                wait = self.batcher.wait_s(now)
                # All the open batch has room for, in one go (never more: a batch stays within
                # the broker's window); waits for the first only until the batch is due.
                items = self.queue.take(self.batcher.room(), 1.0 if wait is None else min(wait, 1.0))
                if items:
                    self.stats.queue_depth(len(self.queue) + len(items))
                    self.batcher.extend(items, self.clock())
                    self.stats.received(len(items))
                if self.batcher.due(self.clock()) or (self.stopping.is_set() and len(self.batcher)):
                    self._commit_batch(self.batcher.take())
                self._maybe_stats()
        except Exception:
            log.exception("writer failed; nothing it held was acknowledged, the broker will redeliver")
            self.failed = True
            self.stopping.set()
        finally:
            self.writer_done.set()

    def _commit_batch(self, messages: list[Inbound]) -> None:
        if not self.committer.commit(messages):
            self._abandoned = True

    def _ack(self, messages: Sequence[Inbound]) -> None:
        """Acknowledge a committed batch: only the mids of the current connection are valid."""
        with self._conn_lock:
            for mid in ackable(messages, self._generation):
                self.client.ack(mid, 1)

    def _maybe_stats(self) -> None:
        now = self.clock()
        if now >= self._next_stats:
            self._next_stats = now + STATS_EVERY_S
            log.info(self._stats_line(now))

    def _stats_line(self, now: float, *, total: bool = False) -> str:
        reconnects = max(self._connections - 1, 0)
        while self.stats.totals.reconnects < reconnects:
            self.stats.reconnected()
        return self.stats.line(now, len(self.queue), self.settings.ingest_queue_max, total=total)

    # ---- main thread ------------------------------------------------------------------

    def stop(self, reason: str = "stop requested") -> None:
        """Stop taking messages; the writer commits and acks what it holds."""
        if not self.stopping.is_set():
            log.info("%s: committing what is in hand, then disconnecting", reason)
            self.committer.give_up_at = self.clock() + self.stop_grace_s
            self.stopping.set()

    def run(self) -> int:
        """Run until stop(); 0 after a clean stop."""
        for warning in config_warnings(self.settings):
            log.warning(warning)
        log.info("ingest starting: broker %s:%s, topics %s/+/telemetry and /status, batch %d msg or "
                 "%d ms, queue %d", self.settings.mqtt_host, self.settings.mqtt_port, self.prefix,
                 self.batcher.max_size, self.settings.ingest_batch_ms, self.settings.ingest_queue_max)
        writer = threading.Thread(target=self.write_loop, name="ingest-writer", daemon=True)
        writer.start()
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=KEEPALIVE_S)
        self.client.loop_start()
        while not self.writer_done.wait(1.0):
            pass
        writer.join()
        self._flush_acks()
        self.client.disconnect()
        self.client.loop_stop()
        log.info(self._stats_line(self.clock(), total=True))
        log.info("ingest stopped")
        return 1 if self.failed else 0


def _settings() -> Settings:
    settings = load_settings(check=False)
    # The daemon serves no web pages, so it does not need FLASK_SECRET_KEY.
    problems = [p for p in settings.problems() if not p.startswith("FLASK_SECRET_KEY")]
    if problems:
        raise ConfigError(problems)
    return settings


def open_daemon_store(settings: Settings) -> TimeseriesStore:
    """The configured store, with the writer's bounded page cache when it is SQLite."""
    from enertrack.store.factory import open_store

    return open_store(settings, sqlite_cache_mib=WRITER_CACHE_MIB)


def computed_apart(function: Callable[[], T]) -> T:
    """function() run in a forked child process: what it imports stays out of the daemon's memory."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(function).result()


def _wait_for_schema(engine: Engine, stopping: threading.Event) -> str | None:
    """None once the users database answers at the newest migration; else what is wrong with it."""
    head, known = computed_apart(users_db.script_revisions)
    failures = 0
    while not stopping.is_set():
        try:
            return users_db.schema_problem(users_db.current_revision(engine), head, known)
        except (OperationalError, InterfaceError) as exc:
            failures += 1
            delay = reconnect_delay_s(failures)
            log.error("users database unavailable (%s); retrying in %.0f s", exc, delay)
            stopping.wait(delay)
    return None


def main() -> int:
    """Entry point of `ingest.py` and `enertrack ingest`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings()
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("configuration: %s", problem)
        return 2
    engine = make_engine(settings.sqlalchemy_url)
    early_stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: early_stop.set())
    signal.signal(signal.SIGINT, lambda *_: early_stop.set())
    problem = _wait_for_schema(engine, early_stop)
    if problem is not None:
        log.error("%s", problem)
        engine.dispose()
        return 2
    if early_stop.is_set():
        return 0
    store = open_daemon_store(settings)
    daemon = Daemon(settings, store, make_session_factory(engine))

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        daemon.stop(f"{signal.Signals(signum).name} received")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return daemon.run()
    finally:
        store.close()
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
