"""`enertrack simulate` against real services: the local Mosquitto, a SQLiteStore, the users database."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from enertrack.cli.main import main
from enertrack.core.magnitudes import BY_NAME, NAMES
from enertrack.db import make_engine, make_session_factory, transaction
from enertrack.migrate import upgrade
from enertrack.models import Node, User
from enertrack.simulation.backfill import backfill
from enertrack.simulation.clock import DAY_S
from enertrack.simulation.fleet import make_fleet, node_ids
from tests.services import free_port, need, port_open

REPO = Path(__file__).resolve().parents[2]
BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883


# -- a subscriber that records everything ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Listener:
    """A QoS 1 subscriber to everything under a topic prefix."""

    def __init__(self, prefix: str) -> None:
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{uuid.uuid4().hex[:12]}")
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(BROKER_HOST, BROKER_PORT)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the listener could not subscribe"

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(Received(msg.topic, msg.payload, msg.qos, bool(msg.retain)))
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.messages), timeout)

    def on(self, suffix: str) -> list[Received]:
        with self._changed:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def prefix() -> Iterator[str]:
    """A topic prefix of this test alone; its retained status messages are cleared afterwards."""
    need(port_open(BROKER_HOST, BROKER_PORT),
         f"no MQTT broker on {BROKER_HOST}:{BROKER_PORT}: apt-get install mosquitto (it starts on 1883)")
    name = f"simtest-{uuid.uuid4().hex[:10]}"
    yield name
    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    cleaner.connect(BROKER_HOST, BROKER_PORT)
    cleaner.loop_start()
    for node_id in node_ids(3, "t-"):
        cleaner.publish(f"{name}/{node_id}/status", b"", qos=1, retain=True).wait_for_publish(5)
    cleaner.disconnect()
    cleaner.loop_stop()


@pytest.fixture
def listener(prefix: str) -> Iterator[Listener]:
    started = Listener(prefix)
    yield started
    started.stop()


def node_prefix(prefix: str) -> str:
    """Node ids (the simulator's MQTT client ids) of this test alone: the local broker is shared."""
    return "t" + prefix[-6:] + "-"


def node(prefix: str, number: int) -> str:
    """The id of simulated node `number` (1-based) in this test."""
    return f"{node_prefix(prefix)}{number:02d}"


def simulate(prefix: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`enertrack simulate` as its own process, talking plain MQTT to the local broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MQTT_", "ENERTRACK_", "DOMINIO", "PUERTO"))}
    env.update(ENERTRACK_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "enertrack.cli.main", "simulate", "--host", BROKER_HOST, "--port", str(BROKER_PORT),
               "--no-tls", "--topic-prefix", prefix, "--node-prefix", node_prefix(prefix), *args]
    return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def merged_module(name: str, what: str) -> ModuleType:
    """A module another branch brings: skipped here until it is merged, a failure in CI without it."""
    need(importlib.util.find_spec(name) is not None, f"{what} is not merged yet")
    return importlib.import_module(name)


def statuses(listener: Listener, node_id: str) -> list[str]:
    return [m.payload.decode() for m in listener.on(f"/{node_id}/status")]


# -- publishing --------------------------------------------------------------------------------------


@pytest.mark.mosquitto
def test_publishes_exactly_as_the_firmware_does(prefix: str, listener: Listener, tmp_path: Path) -> None:
    proc = simulate(prefix, tmp_path, "--nodes", "2", "--interval", "1", "--count", "3")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "sent 6 readings, every one acknowledged by the broker" in out
    assert listener.wait_for(lambda ms: sum(m.payload == b"offline" for m in ms) == 2)
    for node_id in (node(prefix, 1), node(prefix, 2)):
        telemetry = listener.on(f"{prefix}/{node_id}/telemetry")
        assert len(telemetry) == 3
        stamps = []
        for message in telemetry:
            assert message.qos == 1  # delivered at QoS 1 to a QoS 1 subscriber: it was published at QoS 1
            body = json.loads(message.payload)
            assert list(body) == ["ts", *NAMES]
            assert isinstance(body["ts"], int)
            assert all(BY_NAME[name].in_range(body[name]) for name in NAMES)
            stamps.append(body["ts"])
        assert stamps[1] - stamps[0] == 1 and stamps[2] - stamps[1] == 1
        assert abs(stamps[-1] - time.time()) < 30
        assert statuses(listener, node_id) == ["online", "offline"]  # online first, offline last
        assert all(m.qos == 1 for m in listener.on(f"/{node_id}/status"))
    # After the run the broker keeps each node's last word, retained.
    late = Listener(prefix)
    try:
        assert late.wait_for(lambda ms: len(ms) == 2, timeout=5)
        assert {(m.topic, m.payload, m.retain) for m in late.messages} == {
            (f"{prefix}/{node(prefix, 1)}/status", b"offline", True), (f"{prefix}/{node(prefix, 2)}/status", b"offline", True)}
    finally:
        late.stop()


@pytest.mark.mosquitto
def test_the_last_will_says_offline_when_the_process_dies(prefix: str, listener: Listener, tmp_path: Path) -> None:
    proc = simulate(prefix, tmp_path, "--nodes", "2", "--interval", "1")
    try:
        assert listener.wait_for(lambda ms: {m.topic for m in ms if m.topic.endswith("telemetry")} == {
            f"{prefix}/{node(prefix, 1)}/telemetry", f"{prefix}/{node(prefix, 2)}/telemetry"}, timeout=30), proc.stderr
        joining = Listener(prefix)  # joins while the nodes run: gets their retained `online`
        try:
            assert joining.wait_for(lambda ms: sum(m.retain and m.payload == b"online" for m in ms) == 2, 5)
        finally:
            joining.stop()
    finally:
        proc.kill()  # SIGKILL: no chance to say goodbye, so only the Last Will can say offline
        proc.wait(10)
    assert listener.wait_for(lambda ms: statuses(listener, node(prefix, 1))[-1:] == ["offline"]
                             and statuses(listener, node(prefix, 2))[-1:] == ["offline"], timeout=15)
    late = Listener(prefix)
    try:
        assert late.wait_for(lambda ms: len(ms) == 2, timeout=5)
        assert all(m.retain and m.payload == b"offline" for m in late.messages)
    finally:
        late.stop()


@pytest.mark.mosquitto
def test_sigterm_stops_cleanly_and_loses_nothing(prefix: str, listener: Listener, tmp_path: Path) -> None:
    proc = simulate(prefix, tmp_path, "--nodes", "3", "--interval", "1")
    assert listener.wait_for(lambda ms: sum(m.topic.endswith("telemetry") for m in ms) >= 6, timeout=30)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    sent = int(out.split("sent ")[1].split(" readings")[0].replace(",", ""))
    assert listener.wait_for(lambda ms: sum(m.payload == b"offline" for m in ms) == 3)
    telemetry = [json.loads(m.payload)["ts"] for m in listener.messages if m.topic.endswith("telemetry")]
    assert len(telemetry) == sent


@pytest.mark.mosquitto
def test_the_load_generator_sends_distinct_recent_readings(prefix: str, listener: Listener, tmp_path: Path) -> None:
    proc = simulate(prefix, tmp_path, "--nodes", "3", "--interval", "10", "--count", "200", "--rate", "0")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "messages/s" in out
    assert listener.wait_for(lambda ms: sum(m.topic.endswith("telemetry") for m in ms) == 600)
    keys = {(m.topic, json.loads(m.payload)["ts"]) for m in listener.messages if m.topic.endswith("telemetry")}
    assert len(keys) == 600
    newest = max(ts for _, ts in keys)
    assert time.time() - 60 < newest <= time.time()
    assert min(ts for _, ts in keys) == newest - 199 * 10


def test_an_unreachable_broker_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    proc = simulate("x", tmp_path, "--port", str(port), "--count", "1", "--connect-timeout", "1")  # last --port wins
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"no answer from the broker at 127.0.0.1:{port}" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--rate", "100"], "--rate needs --count"),
    (["--rate", "100", "--count", "5", "--backfill", "1"], "do not mix"),
    (["--node-prefix", "bad prefix/"], "--node-prefix may only contain"),
    (["--timezone", "Mars/Olympus"], "IANA timezone"),
])
def test_bad_options_say_what_to_do(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["simulate", *args])
    assert result.exit_code == 2
    assert message in result.output


# -- backfill into a real SQLiteStore -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[object]:
    sqlite = merged_module("enertrack.store.sqlite.store", "SQLiteStore (branch store-sqlite)")
    opened = sqlite.SQLiteStore(tmp_path / "ts.sqlite3")
    yield opened
    opened.close()


END = 1_790_000_040  # a multiple of 60


def test_backfill_writes_the_whole_window(store) -> None:  # noqa: ANN001 - SQLiteStore
    specs = make_fleet(7, node_ids(3, "b-"), reset_per_day=0.0)
    start = END - 2 * DAY_S + 60
    result, sims = backfill(store, specs, 60, start, END)
    assert result.readings == result.stored == 3 * 2 * 1440
    for spec, sim in zip(specs, sims, strict=True):
        stored = list(store.readings(spec.node_id))
        assert len(stored) == 2 * 1440
        assert stored[0].ts == start and stored[-1].ts == END
        assert {r.ts % 60 for r in stored} == {0}
        assert store.latest([spec.node_id])[spec.node_id].energy == sim.counter_kwh
        assert sim.next_ts == END + 60  # ready to go live right after the history


def test_backfill_again_writes_only_what_is_missing(store) -> None:  # noqa: ANN001 - SQLiteStore
    specs = make_fleet(7, node_ids(2, "b-"), reset_per_day=0.0)
    backfill(store, specs, 60, END - DAY_S + 60, END)
    before = store.latest([s.node_id for s in specs])
    again, sims = backfill(store, specs, 60, END - DAY_S + 3660, END + 3600)  # an hour later
    assert again.readings == again.stored == 2 * 60
    for spec in specs:
        stored = list(store.readings(spec.node_id, END - 600, END + 3601))
        energy = [r.energy for r in stored]
        assert [r.ts for r in stored] == list(range(END - 600, END + 3601, 60))
        assert energy == sorted(energy)  # the counter carried on from the stored one, no jump back
        assert stored[10].energy == before[spec.node_id].energy


def test_simulate_backfills_and_registers_from_the_command_line(store, tmp_path: Path) -> None:  # noqa: ANN001
    users_db = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    engine = make_engine(users_db)
    upgrade(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        owner = User(username="demo", email="demo@example.com", password_hash="x", timezone="America/Santiago")
        other = User(username="other", email="other@example.com", password_hash="x")
        session.add_all([owner, other, Node(node_id="c-03", owner=other)])
    env = {"DATABASE_URL": users_db, "ENERTRACK_TSDB_PATH": str(store.path), "ENERTRACK_DATA_DIR": str(tmp_path)}
    args = ["simulate", "--nodes", "3", "--node-prefix", "c-", "--interval", "60", "--backfill", "1",
            "--register-user", "demo", "--count", "0"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "nodes of demo: 2 created, 0 already there" in result.output
    assert "c-03 belong to another user: not simulated" in result.output
    assert "backfilled 2,880 readings (2,880 new) for 2 nodes" in result.output
    with factory() as session:
        mine = session.scalars(select(Node).join(User).where(User.username == "demo").order_by(Node.node_id)).all()
        assert [(n.node_id, n.interval_s) for n in mine] == [("c-01", 60), ("c-02", 60)]
        assert all(n.description.endswith("(simulado)") for n in mine)
    assert list(store.readings("c-03")) == []
    again = CliRunner().invoke(main, args, env=env)
    assert again.exit_code == 0, again.output
    assert "nodes of demo: 0 created, 2 already there" in again.output
    engine.dispose()


def test_registering_for_a_missing_user_says_what_to_do(tmp_path: Path) -> None:
    users_db = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    engine = make_engine(users_db)
    upgrade(engine)
    engine.dispose()
    result = CliRunner().invoke(main, ["simulate", "--register-user", "nobody", "--count", "0"],
                                env={"DATABASE_URL": users_db})
    assert result.exit_code == 2
    assert "no user named 'nobody': create it first" in result.output


def test_without_a_broker_live_readings_go_straight_into_the_store(store, tmp_path: Path) -> None:  # noqa: ANN001
    args = ["simulate", "--nodes", "2", "--node-prefix", "d-", "--interval", "2", "--backfill", "0.01",
            "--count", "2", "--no-broker", "--reset-probability", "0"]
    result = CliRunner().invoke(main, args, env={"ENERTRACK_TSDB_PATH": str(store.path),
                                                 "ENERTRACK_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "wrote 4 readings into the store" in result.output
    for node_id in ("d-01", "d-02"):
        stored = list(store.readings(node_id))
        assert len(stored) == 432 + 2  # 864 s of history every 2 s, then two live readings
        assert [b.ts - a.ts for a, b in zip(stored, stored[1:], strict=False)] == [2] * 433
        energy = [r.energy for r in stored]
        assert energy == sorted(energy)


@pytest.mark.mosquitto
def test_over_tls_each_node_logs_in_with_its_own_account(tmp_path: Path) -> None:
    # The broker the ingest ships: TLS, no anonymous access, one account per node and the
    # ACL `pattern write enertrack/%u/#` (so a shared account could not publish for the others).
    brokers = merged_module("tests.mqtt_broker", "the ingest's test broker (branch ingest)")
    broker = brokers.Broker(tmp_path / "broker")
    for node_id in ("t-01", "t-02"):
        broker.add_user(node_id, f"pw-{node_id}-secret")
    broker.start()
    received: list[tuple[str, bytes]] = []
    reader = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-reader")
    reader.username_pw_set(brokers.INGEST_USER, brokers.INGEST_PASSWORD)
    reader.tls_set(ca_certs=str(broker.pki.ca_cert))
    subscribed = threading.Event()
    reader.on_connect = lambda c, *_: c.subscribe("enertrack/#", qos=1)
    reader.on_subscribe = lambda *_: subscribed.set()
    reader.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload))
    reader.connect("127.0.0.1", broker.port)
    reader.loop_start()
    try:
        assert subscribed.wait(10)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MQTT_", "ENERTRACK_"))}
        env.update(ENERTRACK_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO), MQTT_TOPIC_PREFIX="enertrack")
        done = subprocess.run(
            [sys.executable, "-m", "enertrack.cli.main", "simulate", "--nodes", "2", "--node-prefix", "t-",
             "--interval", "1", "--count", "2", "--host", "127.0.0.1", "--port", str(broker.port), "--tls",
             "--ca-file", str(broker.pki.ca_cert), "--username", "{node_id}", "--password", "pw-{node_id}-secret"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 10
        while sum(t.endswith("/telemetry") for t, _ in received) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(t for t, _ in received if t.endswith("/telemetry")) == [
            "enertrack/t-01/telemetry", "enertrack/t-01/telemetry",
            "enertrack/t-02/telemetry", "enertrack/t-02/telemetry"]
        refused = subprocess.run(
            [sys.executable, "-m", "enertrack.cli.main", "simulate", "--nodes", "1", "--node-prefix", "t-",
             "--count", "1", "--host", "127.0.0.1", "--port", str(broker.port), "--tls",
             "--ca-file", str(broker.pki.ca_cert), "--username", "{node_id}", "--password", "wrong"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2
        assert "refused node t-01" in refused.stderr
    finally:
        reader.disconnect()
        reader.loop_stop()
        broker.stop()


def test_simulated_nodes_share_one_verified_tls_setup_and_warn_once_when_insecure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The simulator builds its TLS context with the daemon's builder (enertrack.mqtt): the
    # same verification rules and the same actionable warning, once per run rather than per node.
    from enertrack.config import load_settings
    from enertrack.simulation.publisher import NodePublisher

    settings = load_settings(check=False, MQTT_TLS=True, MQTT_TLS_INSECURE=True)
    with caplog.at_level("WARNING"):
        publisher = NodePublisher(settings, ["t-01", "t-02", "t-03"])
    warnings = [r.getMessage() for r in caplog.records if "MQTT_TLS_INSECURE" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "Set MQTT_CA_FILE to the broker's CA" in warnings[0]
    assert len(publisher.links) == 3


@pytest.mark.mosquitto
def test_ctrl_c_ends_a_burst_whose_broker_went_away(tmp_path: Path) -> None:
    # With the broker gone, every node soon has its maximum of unacknowledged readings and
    # publish() waits for acks that never come; Ctrl-C used to leave the simulator hanging there.
    from tests.mqtt_broker import Broker

    broker = Broker(tmp_path / "broker", tls=False, users={node("gone", 1): f"pw-{node('gone', 1)}"})
    broker.start()
    proc = simulate("gone", tmp_path, "--port", str(broker.port), "--nodes", "1", "--count", "1000000",
                    "--rate", "0", "--username", "{node_id}", "--password", "pw-{node_id}", "--drain-timeout", "1")
    try:
        time.sleep(3)  # connected and sending as fast as the broker acknowledges
        assert proc.poll() is None, proc.communicate()[1]
        broker.stop()
        time.sleep(2)  # long enough to reach the limit of unacknowledged readings
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        broker.stop()
    assert proc.returncode == 1, err
    assert "were not acknowledged by the broker within 1 s" in err
    assert "sent " in out
