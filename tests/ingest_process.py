"""Run the ingest daemon as a real process against a test broker, a users database and a SQLite store."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt

from enertrack.db import make_engine, make_session_factory, transaction
from enertrack.migrate import upgrade
from enertrack.models import Node, User
from tests.mqtt_broker import ROOT, Broker, environ_without_mqtt, publish_all


def make_users_db(url: str, node_ids: Iterable[str], interval_s: int = 10) -> None:
    """Migrate a users database and register node_ids for one user."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            owner = User(username="owner", email="owner@example.org", password_hash="x")
            session.add(owner)
            session.add_all(Node(node_id=n, owner=owner, interval_s=interval_s) for n in node_ids)
    finally:
        engine.dispose()


def add_node(url: str, node_id: str) -> None:
    """Register one more node for the first user."""
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            owner = session.query(User).first()
            session.add(Node(node_id=node_id, owner=owner))
    finally:
        engine.dispose()


def with_node_refresh(refresh_s: float) -> tuple[str, ...]:
    """The daemon's command, re-reading the node list every refresh_s s instead of the fixed 60 s.

    The interval is a constant of the code, not a setting: the child patches it before main().
    """
    code = ("import functools, sys\n"
            "import enertrack.ingest.daemon as ingest\n"
            f"ingest.NodeDirectory = functools.partial(ingest.NodeDirectory, refresh_s={refresh_s!r})\n"
            "sys.exit(ingest.main())\n")
    return ("-c", code)


class IngestProcess:
    """`python ingest.py` with its output in a log file."""

    def __init__(self, workdir: Path, broker: Broker, *, extra_env: dict[str, str] | None = None,
                 command: tuple[str, ...] = ("ingest.py",)) -> None:
        self.workdir = workdir
        self.command = command
        self.users_url = f"sqlite:///{workdir / 'users.sqlite3'}"
        self.tsdb = workdir / "timeseries.sqlite3"
        self.log_path = workdir / "ingest.log"
        self.env = {
            **environ_without_mqtt(),
            **broker.settings_env(),
            "DATABASE_URL": self.users_url,
            "ENERTRACK_TSDB_PATH": str(self.tsdb),
            "ENERTRACK_DATA_DIR": str(workdir / "data"),
            "ENERTRACK_STORE": "sqlite",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self, *, wait: bool = True) -> IngestProcess:
        """Start the daemon and (unless wait=False) wait until it has connected."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, *self.command], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for(r"connected to .* \(session present")
        return self

    def log(self) -> str:
        """Everything this run has logged so far."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._log_offset)
            return handle.read().decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 20.0, count: int = 1) -> re.Match[str]:
        """Wait until the log of this run matches pattern count times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = list(re.finditer(pattern, self.log()))
            if len(matches) >= count:
                return matches[count - 1]
            if self.process and self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"ingest log never matched {pattern!r} x{count}:\n{self.log()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send sig and return the exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL: no chance to commit or acknowledge anything."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stored(self, node_ids: Iterable[str]) -> list[tuple[str, int]]:
        """(node_id, ts) of every stored reading of node_ids, read through the store's own API."""
        from enertrack.store.sqlite.store import SQLiteStore

        with SQLiteStore(self.tsdb) as store:
            return [(r.node_id, r.ts) for n in node_ids for r in store.readings(n)]

    def wait_stored(self, node_ids: Iterable[str], count: int, timeout: float = 30.0) -> list[tuple[str, int]]:
        """Wait until at least count readings of node_ids are stored; return them all.

        Fails after timeout: returning fewer would let a test go on as if the daemon had kept up.
        """
        nodes = list(node_ids)
        deadline = time.monotonic() + timeout
        rows = self.stored(nodes)
        while len(rows) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(rows)} of {count} readings stored after {timeout} s; "
                                     f"ingest log:\n{self.log()[-4000:]}")
            time.sleep(0.1)
            rows = self.stored(nodes)
        return rows


def default_payload(ts: int, i: int) -> str:
    """A small reading with ts, voltage, power and a growing counter."""
    return json.dumps({"ts": ts, "v": 230.0, "p": float(i), "e": i / 1000})


class Acks:
    """PUBACKs one publisher has received, by message id (on_publish), for waits that survive reconnects.

    paho keeps a QoS 1 message published while the connection is down and sends it after its
    automatic reconnection, but that message's wait_for_publish() raises: its PUBACK is what counts.
    """

    def __init__(self, client: mqtt.Client) -> None:
        self._acked: set[int] = set()
        self._condition = threading.Condition()
        client.on_publish = self._on_publish

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, _reason: object, _props: object) -> None:
        with self._condition:
            self._acked.add(mid)
            self._condition.notify_all()

    def wait(self, mid: int, timeout: float) -> None:
        """Wait for mid's PUBACK, however many reconnections it takes."""
        with self._condition:
            if not self._condition.wait_for(lambda: mid in self._acked, timeout):
                raise TimeoutError(f"message {mid} was not acknowledged within {timeout} s")
            self._acked.discard(mid)  # message ids are reused


class Stream:
    """Publishes count readings per node (one per second of ts) at about rate messages/s, QoS 1, in a thread.

    Each publish waits for the broker's PUBACK, so `sent` counts messages the broker holds.
    With reconnecting=True the publishers ride out a broker restart (paho reconnects them and
    resends what was not acknowledged); otherwise a lost connection fails the stream.
    """

    def __init__(self, broker: Broker, count: int, nodes: Sequence[str], rate: float = 1500.0,
                 start_ts: int | None = None, payload: Callable[[int, int], str] = default_payload,
                 reconnecting: bool = False) -> None:
        self.broker = broker
        self.count = count
        self.nodes = list(nodes)
        self.rate = rate
        self.payload = payload
        self.reconnecting = reconnecting
        self.base = start_ts if start_ts is not None else int(time.time()) - 3 * count
        self.expected = sorted((node, self.base + i) for node in self.nodes for i in range(count))
        self.sent = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            clients = {node: self.broker.client(node) for node in self.nodes}
            acks = {node: Acks(client) for node, client in clients.items()} if self.reconnecting else {}
            started = time.monotonic()
            for i in range(self.count):
                for node in self.nodes:
                    message = (f"enertrack/{node}/telemetry", self.payload(self.base + i, i))
                    if self.reconnecting:
                        acks[node].wait(clients[node].publish(*message, qos=1).mid, timeout=60)
                    else:
                        publish_all(clients[node], [message], timeout=60)
                    self.sent += 1
                time.sleep(max(0.0, started + self.sent / self.rate - time.monotonic()))
            for client in clients.values():
                client.disconnect()
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    def __enter__(self) -> Stream:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.join()

    def join(self, timeout: float = 90) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "publisher did not finish"
        if self.error:
            raise self.error

    def wait_sent(self, count: int, timeout: float = 30) -> None:
        """Wait until the broker has acknowledged count messages; fail if the stream stops short."""
        deadline = time.monotonic() + timeout
        while self.sent < count:
            if self.error is not None:
                raise AssertionError(f"the stream failed after {self.sent} of {count} messages") from self.error
            if time.monotonic() >= deadline:
                raise AssertionError(f"{self.sent} of {count} messages sent after {timeout} s")
            time.sleep(0.02)
