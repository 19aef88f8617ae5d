"""The simulator's network edge: publish readings over MQTT as the firmware does (backfill.py fills a store).

The readings themselves come from enertrack.simulation (pure). docs/simulator.md
explains the model, the options and how the demo uses them.

One paho client per node, as a fleet of real nodes has: each its own client id,
credentials and Last Will, so the broker's per-node ACL, the retained status
topic and the `offline` Last Will all behave as they do in production. Each
client runs paho's network thread; a few hundred nodes per process is fine.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from pydantic import SecretStr

from enertrack.config import Settings
from enertrack.core.columns import ReadingColumns
from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.mqtt import tls_context
from enertrack.simulation.meter import NodeSimulator
from enertrack.store.base import TimeseriesStore

log = logging.getLogger("enertrack.simulation.publisher")

KEEPALIVE_S = 30
BURST_BLOCK = 1000  # readings per node generated at a time by the load generator
MAX_UNACKED_PER_NODE = 1000  # a fast publisher waits rather than queueing without bound
STOP_CHECK_S = 0.2  # how often a publish waiting for the broker's acks looks at the stop event
NODE_PLACEHOLDER = "{node_id}"  # in --username/--password: one broker account per node


class SimulatorError(RuntimeError):
    """Something the person running the simulator must fix; the message says what."""


# -- MQTT ------------------------------------------------------------------------------------


def topic(prefix: str, node_id: str, kind: str) -> str:
    """`<prefix>/<node_id>/telemetry` or `.../status`, as in docs/payload.md."""
    return f"{prefix}/{node_id}/{kind}"


def payloads(columns: ReadingColumns) -> list[dict[str, Any]]:
    """One firmware-style JSON object per reading: ts, then the canonical field names."""
    keys = ("ts", *NAMES)
    rows = zip(columns.ts.tolist(), *(getattr(columns, name).tolist() for name in NAMES), strict=True)
    return [dict(zip(keys, row, strict=True)) for row in rows]


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact JSON, as the firmware sends it."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def node_settings(settings: Settings, node_id: str) -> Settings:
    """The settings with {node_id} in MQTT_USR / MQTT_PASS replaced by this node's id."""
    update: dict[str, Any] = {}
    if settings.mqtt_user and NODE_PLACEHOLDER in settings.mqtt_user:
        update["mqtt_user"] = settings.mqtt_user.replace(NODE_PLACEHOLDER, node_id)
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else ""
    if NODE_PLACEHOLDER in password:
        update["mqtt_password"] = SecretStr(password.replace(NODE_PLACEHOLDER, node_id))
    return settings.model_copy(update=update) if update else settings


@dataclass
class _Link:
    """One node's connection and its QoS 1 bookkeeping."""

    node_id: str
    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    refused: str | None = None
    published: int = 0
    acked: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def unacked(self) -> int:
        with self.changed:
            return self.published - self.acked


def _all_acked(link: _Link) -> bool:
    return link.published == link.acked


class NodePublisher:
    """A connection per simulated node: retained `online` on connect, Last Will `offline`, QoS 1.

    Setting `stop` (Ctrl-C) ends a publish that waits for acknowledgements from a broker that is away.
    """

    def __init__(self, settings: Settings, node_ids: Sequence[str]) -> None:
        self.settings = settings
        self.prefix = settings.mqtt_topic_prefix
        self.stop = threading.Event()
        # One context for every node: the CA and client certificate are the same for all (only the
        # user name and password differ), and an insecure setting is then warned about once.
        self._tls = tls_context(settings) if settings.mqtt_tls else None
        self.links = {node_id: self._link(node_id) for node_id in node_ids}

    def _link(self, node_id: str) -> _Link:
        own = node_settings(self.settings, node_id)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=node_id, protocol=mqtt.MQTTv311)
        if own.mqtt_user:
            client.username_pw_set(own.mqtt_user, own.mqtt_password.get_secret_value() if own.mqtt_password else None)
        if self._tls is not None:
            client.tls_set_context(self._tls)
        client.will_set(topic(self.prefix, node_id, "status"), "offline", qos=1, retain=True)
        link = _Link(node_id, client)
        client.on_connect = lambda c, _u, _f, code, _p: self._on_connect(link, code)
        client.on_publish = lambda _c, _u, _mid, _code, _p: self._on_ack(link)
        client.on_disconnect = lambda _c, _u, _f, code, _p: self._on_disconnect(link, code)
        return link

    def _on_connect(self, link: _Link, code: mqtt.ReasonCode) -> None:
        if code.is_failure:
            link.refused = str(code)
            link.connected.set()  # wakes connect(), which reports the refusal
            return
        log.info("%s connected", link.node_id)
        self._send(link, topic(self.prefix, link.node_id, "status"), b"online", retain=True)
        link.connected.set()

    def _on_ack(self, link: _Link) -> None:
        with link.changed:
            link.acked += 1
            link.changed.notify_all()

    def _on_disconnect(self, link: _Link, code: mqtt.ReasonCode) -> None:
        if code.is_failure:
            log.warning("%s lost its connection (%s); paho reconnects and resends unacknowledged readings",
                        link.node_id, code)

    def _send(self, link: _Link, where: str, payload: bytes, retain: bool = False) -> None:
        # Counted before publish(): the PUBACK may arrive on the network thread before publish() returns.
        with link.changed:
            link.published += 1
        # A QoS 1 message published while disconnected stays in paho's queue and goes out on
        # reconnect, so the result code is not a loss; the PUBACK count is what says delivered.
        link.client.publish(where, payload, qos=1, retain=retain)

    def connect(self, timeout_s: float) -> None:
        """Connect every node; SimulatorError naming the broker if any is refused or unreachable."""
        host, port = self.settings.mqtt_host, self.settings.mqtt_port
        for link in self.links.values():
            link.client.reconnect_delay_set(1, 30)
            try:
                link.client.connect_async(host, port, keepalive=KEEPALIVE_S)
            except (OSError, ValueError) as exc:
                raise SimulatorError(f"cannot connect to the broker {host}:{port}: {exc}") from exc
            link.client.loop_start()
        deadline = time.monotonic() + timeout_s
        for link in self.links.values():
            if not link.connected.wait(max(deadline - time.monotonic(), 0.0)):
                self.stop_all()
                scheme = "TLS" if self.settings.mqtt_tls else "plain MQTT"
                raise SimulatorError(
                    f"no answer from the broker at {host}:{port} ({scheme}) within {timeout_s:.0f} s: "
                    "check DOMINIO/PUERTO_MQTTS (or --host/--port), --tls/--no-tls, and with TLS that "
                    "MQTT_CA_FILE (--ca-file) is the CA that signed the broker's certificate"
                )
            if link.refused:
                self.stop_all()
                raise SimulatorError(
                    f"the broker at {host}:{port} refused node {link.node_id}: {link.refused}; "
                    "check MQTT_USR/MQTT_PASS (or --username/--password, which may contain {node_id})"
                )

    def publish(self, node_id: str, payload: Mapping[str, Any]) -> bool:
        """Send one reading on the node's telemetry topic (QoS 1), waiting while too many are unacked.

        False, with nothing sent, when `stop` is set while waiting (the broker is away and the
        user pressed Ctrl-C): the wait is never longer than that.
        """
        link = self.links[node_id]
        with link.changed:
            while link.published - link.acked >= MAX_UNACKED_PER_NODE:
                if self.stop.is_set():
                    return False
                link.changed.wait(STOP_CHECK_S)
        self._send(link, topic(self.prefix, node_id, "telemetry"), encode(payload))
        return True

    def publish_columns(self, columns: ReadingColumns) -> int:
        """Send the readings of one node's columns until done or stopped; how many were sent."""
        sent = 0
        for payload in payloads(columns):
            if not self.publish(columns.node_id, payload):
                break
            sent += 1
        return sent

    def unacked(self) -> int:
        """Messages sent but not yet acknowledged by the broker, all nodes."""
        return sum(link.unacked for link in self.links.values())

    def wait(self, timeout_s: float) -> int:
        """Wait until the broker has acknowledged everything sent; how many are still unacked."""
        deadline = time.monotonic() + timeout_s
        for link in self.links.values():
            with link.changed:
                link.changed.wait_for(partial(_all_acked, link), timeout=max(deadline - time.monotonic(), 0.0))
        return self.unacked()

    def close(self, timeout_s: float) -> int:
        """Say `offline` (retained) for every node, wait for the acks, disconnect; how many were lost."""
        for link in self.links.values():
            if link.connected.is_set() and not link.refused:
                self._send(link, topic(self.prefix, link.node_id, "status"), b"offline", retain=True)
        lost = self.wait(timeout_s)
        self.stop_all()
        return lost

    def stop_all(self) -> None:
        """Disconnect cleanly (no Last Will) and stop the network threads."""
        for link in self.links.values():
            link.client.disconnect()
            link.client.loop_stop()


# -- live and load-generator modes ---------------------------------------------------------


class Sink(Protocol):
    """Where live readings go: the broker (NodePublisher) or, without one, the store (StoreSink)."""

    def publish_columns(self, columns: ReadingColumns) -> int: ...


class StoreSink:
    """Live readings written straight into the store: the demo's fallback when no broker is reachable.

    Nothing goes through MQTT, so nothing checks the payload path and no status is published;
    the readings and the counter are the same as over MQTT.
    """

    def __init__(self, store: TimeseriesStore, params: Mapping[str, EnergyParams]) -> None:
        self.store = store
        self.params = params

    def publish_columns(self, columns: ReadingColumns) -> int:
        """Write one node's due readings; how many."""
        self.store.write(columns, {columns.node_id: self.params[columns.node_id]})
        return len(columns)


def run_live(
    sims: Sequence[NodeSimulator],
    publisher: Sink,
    stop: threading.Event,
    count: int | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Send each node's readings as they fall due (catching up first); how many were sent.

    Every reading due by now is sent, so a node that started behind (after a backfill)
    sends the missed ones first and its counter never skips. count bounds readings per node.
    """
    step = sims[0].interval_s if sims else 1
    left = {sim.spec.node_id: count for sim in sims}
    sent = 0
    while not stop.is_set():
        now = int(clock())
        for sim in sims:
            due = (now - sim.next_ts) // sim.interval_s + 1
            remaining = left[sim.spec.node_id]
            if remaining is not None:
                due = min(due, remaining)
                left[sim.spec.node_id] = remaining - max(due, 0)
            if due > 0:
                sent += publisher.publish_columns(sim.take(due))
        if count is not None and all(n == 0 for n in left.values()):
            break
        wake = (now // step + 1) * step
        stop.wait(max(wake - clock(), 0.0))
    return sent


@dataclass(frozen=True, slots=True)
class BurstResult:
    """What a load-generator run did."""

    sent: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def run_burst(
    sims: Sequence[NodeSimulator],
    publisher: NodePublisher,
    stop: threading.Event,
    count: int,
    rate: float,
    clock: Callable[[], float] = time.perf_counter,
) -> BurstResult:
    """Send count readings per node as fast as rate (messages/s, all nodes; 0 = no limit).

    The readings are the count most recent ones of each node (timestamps end now), sent
    round-robin across nodes, so every message is a distinct (node, ts) the ingest stores.
    """
    started = clock()
    sent = 0
    for first in range(0, count, BURST_BLOCK):
        # A block of readings per node at a time: memory stays bounded however large count is.
        block = [(sim.spec.node_id, payloads(sim.take(min(BURST_BLOCK, count - first)))) for sim in sims]
        for position in range(len(block[0][1]) if block else 0):
            for node_id, rows in block:
                if stop.is_set():
                    return BurstResult(sent, clock() - started)
                if rate > 0:
                    ahead = started + sent / rate - clock()
                    if ahead > 0:
                        time.sleep(ahead)
                if not publisher.publish(node_id, rows[position]):
                    return BurstResult(sent, clock() - started)
                sent += 1
    return BurstResult(sent, clock() - started)
