"""The ingest daemon as a real process against a real Mosquitto over TLS: storage, security, bad input."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from enertrack.core.reading import Reading
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest.payload import MAX_PAYLOAD_BYTES, Reason
from enertrack.ingest.users_db import recent_rejections
from enertrack.models import Node, NodeHealth
from enertrack.store.sqlite.store import SQLiteStore
from tests.ingest_process import IngestProcess, add_node, make_users_db, with_node_refresh
from tests.mqtt_broker import (
    INGEST_PASSWORD,
    INGEST_USER,
    ROOT,
    Broker,
    broker_fixture,
    make_client_cert,
    make_pki,
    publish_all,
)
from tests.unit.test_payload import REJECTED

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

NODES = ["n1", "n2"]
USERS = {INGEST_USER: INGEST_PASSWORD, "n1": "n1-password-x", "n2": "n2-password-x",
         "ghost": "ghost-password", "bad.id": "bad-id-password"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from broker_fixture(tmp_path_factory, users=dict(USERS))


@pytest.fixture
def ingest(tmp_path: Path, broker: Broker, request: pytest.FixtureRequest) -> Iterator[IngestProcess]:
    # A client id per test: each test gets its own persistent session on the shared broker.
    process = IngestProcess(tmp_path, broker, extra_env={"MQTT_CLIENT_ID": f"ingest-{request.node.name[:40]}"})
    make_users_db(process.users_url, NODES)
    yield process
    process.kill()


def totals(process: IngestProcess) -> str:
    return process.wait_for(r"totals: .*").group(0)


def test_canonical_and_alias_payloads_are_stored_over_tls(broker: Broker, ingest: IngestProcess) -> None:
    ingest.start()
    now = int(time.time())
    client = broker.client("n1")
    publish_all(client, [
        ("enertrack/n1/telemetry", json.dumps({"ts": now - 2, "voltage": 230.5, "current": 1.25, "power": 280,
                                                "energy": 12.5, "power_factor": 0.97, "frequency": 50.02})),
        ("enertrack/n1/telemetry", json.dumps({"ts": (now - 1) * 1000, "v": 229.0, "i": 0.5, "p": 110.5,
                                                "e": 12.51, "pf": 0.9, "f": 49.98, "node_id": "n2"})),
    ])
    client.disconnect()
    rows = ingest.wait_stored(["n1", "n2"], 2)
    assert rows == [("n1", now - 2), ("n1", now - 1)]
    with SQLiteStore(ingest.tsdb) as store:
        assert list(store.readings("n1")) == [
            Reading("n1", now - 2, 230.5, 1.25, 280.0, 12.5, 0.97, 50.02),
            Reading("n1", now - 1, 229.0, 0.5, 110.5, 12.51, 0.9, 49.98),
        ]
    assert ingest.stop() == 0


def test_enertrack_ingest_command_runs_the_same_daemon(broker: Broker, tmp_path: Path) -> None:
    process = IngestProcess(tmp_path, broker, command=("-m", "enertrack.cli.main", "ingest"),
                            extra_env={"MQTT_CLIENT_ID": "ingest-cli-command"})
    make_users_db(process.users_url, NODES)
    process.start()
    try:
        client = broker.client("n2")
        publish_all(client, [("enertrack/n2/telemetry", '{"p": 42}')])
        client.disconnect()
        assert [node for node, _ts in process.wait_stored(NODES, 1)] == ["n2"]
        assert process.stop() == 0
    finally:
        process.kill()


def test_status_messages_update_the_node(broker: Broker, ingest: IngestProcess) -> None:
    ingest.start()
    client = broker.client("n2")
    publish_all(client, [("enertrack/n2/status", "online")], retain=True)
    engine = make_engine(ingest.users_url)
    sessions = make_session_factory(engine)

    def status() -> tuple[str | None, object]:
        with sessions() as session:
            node = session.query(Node).filter_by(node_id="n2").one()
            return node.last_status, node.last_status_at

    deadline = time.monotonic() + 10
    while status()[0] != "online" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status()[0] == "online"
    publish_all(client, [("enertrack/n2/status", "offline")], retain=True)
    deadline = time.monotonic() + 10
    while status()[0] != "offline" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status()[0] == "offline" and status()[1] is not None
    publish_all(client, [("enertrack/n2/status", b"", )], retain=True)  # clear the retained message
    client.disconnect()
    engine.dispose()
    assert ingest.stop() == 0


def test_device_health_is_kept_as_the_nodes_latest_and_bad_values_only_counted(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.start()
    now = int(time.time())
    client = broker.client("n1")
    publish_all(client, [
        ("enertrack/n1/telemetry", json.dumps({"ts": now - 3, "p": 10, "fw": "1.4.0", "rssi": -71, "uptime_s": 3600,
                                                "dropped": 0, "buffered": 0})),
        ("enertrack/n1/telemetry", json.dumps({"ts": now - 2, "p": 11, "rssi": -64, "uptime_s": 3610,
                                                "dropped": "lots", "buffered": 2})),
        # A reading replayed from the node's buffer, sent last: its health is the freshest.
        ("enertrack/n1/telemetry", json.dumps({"ts": now - 30, "p": 9, "fw": "1.4.1", "rssi": -58})),
    ])
    client.disconnect()
    assert ingest.wait_stored(["n1"], 3) == [("n1", now - 30), ("n1", now - 3), ("n1", now - 2)]  # all stored
    assert ingest.stop() == 0
    assert "bad diagnostics 1," in totals(ingest) and "ignored keys 0," in totals(ingest)
    engine = make_engine(ingest.users_url)
    with make_session_factory(engine)() as session:
        health = session.scalars(select(NodeHealth).join(Node, Node.id == NodeHealth.node_pk)
                                 .where(Node.node_id == "n1")).one()
        kept = (health.fw, health.rssi, health.uptime_s, health.dropped, health.buffered)
        at = int((health.reported_at - datetime(1970, 1, 1)).total_seconds())
    engine.dispose()
    assert kept == ("1.4.1", -58, 3610, 0, 2) and now <= at <= time.time()  # when it arrived


def test_the_daemon_says_why_it_cannot_connect_to_an_untrusted_broker(
    broker: Broker, ingest: IngestProcess, tmp_path: Path
) -> None:
    other = make_pki(tmp_path / "other", "other")
    ingest.env["MQTT_CA_FILE"] = str(other.ca_cert)
    ingest.start(wait=False)
    ingest.wait_for(r"cannot connect to 127\.0\.0\.1:\d+: .*certificate verify failed")
    assert ingest.stop() == 0


def test_the_daemon_says_when_its_password_is_refused_and_keeps_trying(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.env["MQTT_PASS"] = "wrong-password"
    ingest.start(wait=False)
    ingest.wait_for(r"refused the connection: Not authorized \(check MQTT_USR/MQTT_PASS", count=2, timeout=30)
    assert ingest.stop() == 0
    # paho reports the refused CONNACK as a disconnect too: that is no TLS problem to check.
    assert "closed the connection before accepting it" not in ingest.log()
    assert "MQTT_CA_FILE" not in ingest.log() and "redelivered" not in ingest.log()


def test_wrong_password_and_anonymous_clients_are_refused(broker: Broker) -> None:
    broker.users["impostor"] = "not-registered"
    with pytest.raises(ConnectionError, match="Not authorized|Bad user name or password"):
        broker.client("impostor")
    anonymous = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    anonymous.tls_set_context(ssl.create_default_context(cafile=str(broker.pki.ca_cert)))
    refused: list[mqtt.ReasonCode] = []
    anonymous.on_connect = lambda _c, _u, _f, reason, _p: refused.append(reason)
    anonymous.connect("127.0.0.1", broker.port)
    deadline = time.monotonic() + 5
    while not refused and time.monotonic() < deadline:
        anonymous.loop(0.1)
    assert refused and refused[0].is_failure


def test_the_broker_disconnects_a_node_sending_a_topic_longer_than_the_contract_allows(broker: Broker) -> None:
    # The ACL lets a node publish anything under enertrack/<itself>/, and an MQTT topic may be
    # 64 KiB, which message_size_limit (payload only) does not count; max_packet_size does.
    received: list[tuple[str, int]] = []
    subscribed = threading.Event()
    reader = broker.client(INGEST_USER)
    reader.on_message = lambda _c, _u, m: received.append((m.topic, len(m.payload)))
    reader.on_subscribe = lambda *_args: subscribed.set()
    reader.subscribe("enertrack/n1/#", qos=1)
    assert subscribed.wait(10)
    node = broker.client("n1")
    dropped = threading.Event()
    node.on_disconnect = lambda *_args: dropped.set()
    node.publish("enertrack/n1/" + "x" * 9000, b'{"p": 1}', qos=1)
    assert dropped.wait(10), "the broker kept a client that sent a 9 KB topic"
    node.loop_stop()
    # The largest message the contract allows still passes: the longest topic, a 4 KiB payload.
    longest = "enertrack/n1/" + "x" * (64 - len("n1") - 1) + "/telemetry"
    assert len(longest) == len("enertrack/") + 64 + len("/telemetry")
    node = broker.client("n1")
    publish_all(node, [(longest, b"x" * MAX_PAYLOAD_BYTES)])
    node.disconnect()
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    reader.disconnect()
    assert received == [(longest, MAX_PAYLOAD_BYTES)]


def test_a_node_cannot_publish_to_another_nodes_topic(broker: Broker, ingest: IngestProcess) -> None:
    ingest.start()
    now = int(time.time())
    client = broker.client("n1")
    # MQTT 3.1.1 has no way to tell the publisher: the broker acks and silently drops it.
    publish_all(client, [("enertrack/n2/telemetry", json.dumps({"ts": now - 5, "p": 666})),
                         ("enertrack/n1/telemetry", json.dumps({"ts": now - 4, "p": 1}))])
    client.disconnect()
    assert ingest.wait_stored(NODES, 1) == [("n1", now - 4)]
    assert ingest.stop() == 0
    assert ingest.stored(NODES) == [("n1", now - 4)]
    assert "rejected 0" in totals(ingest) and "received 1," in totals(ingest)


def test_a_node_registered_while_the_daemon_runs_is_accepted_within_seconds(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.start()
    client = broker.client("ghost")
    now = int(time.time())
    publish_all(client, [("enertrack/ghost/telemetry", json.dumps({"ts": now - 10, "p": 1}))])
    ingest.wait_for(r"rejected unknown_node from node ghost")
    add_node(ingest.users_url, "ghost")
    time.sleep(5.5)  # the node list is re-read on a miss at most every 5 s
    publish_all(client, [("enertrack/ghost/telemetry", json.dumps({"ts": now - 9, "p": 2}))])
    client.disconnect()
    assert ingest.wait_stored(["ghost"], 1) == [("ghost", now - 9)]
    assert ingest.stop() == 0


def test_a_node_deleted_while_the_daemon_runs_is_refused_after_the_next_refresh(
    broker: Broker, tmp_path: Path
) -> None:
    # The node list is re-read every 60 s (fixed in the code, REFRESH_S); this run re-reads it
    # every 2 s. Only n1 and n2 publish, so no unknown node triggers an early re-read on a miss.
    refresh_s = 2.0
    process = IngestProcess(tmp_path, broker, command=with_node_refresh(refresh_s),
                            extra_env={"MQTT_CLIENT_ID": "ingest-node-deleted"})
    make_users_db(process.users_url, NODES)
    clients = {node: broker.client(node) for node in NODES}
    try:
        process.start()
        base = int(time.time()) - 1000

        def publish(node: str, i: int) -> None:
            publish_all(clients[node], [(f"enertrack/{node}/telemetry", json.dumps({"ts": base + i, "p": i}))])

        publish("n1", 0)
        publish("n2", 0)
        assert process.wait_stored(NODES, 2) == [("n1", base), ("n2", base)]
        subprocess.run([sys.executable, "-m", "enertrack.cli.main", "node", "remove", "--user", "owner", "--id", "n2",
                        "--yes"], cwd=ROOT, env=process.env, capture_output=True, text=True, check=True)
        deleted_at = time.monotonic()
        i = 1
        while "rejected unknown_node from node n2" not in process.log():
            assert time.monotonic() - deleted_at < refresh_s + 5, "n2 is still accepted after the refresh"
            publish("n2", i)  # n2 first: once n1's reading is stored, n2's has been handled
            publish("n1", i)
            i += 1
            time.sleep(0.1)
        refused_from = i
        for i in range(refused_from, refused_from + 5):  # from now on every reading of n2 is refused
            publish("n2", i)
            publish("n1", i)
        sent = i + 1
        assert process.wait_stored(["n1"], sent) == [("n1", base + k) for k in range(sent)]
        assert process.stop() == 0
    finally:
        for client in clients.values():
            client.disconnect()
        process.kill()
    # n2's readings from before the deletion went with it; those between the deletion and the
    # refresh were still stored (and go when the id is registered again); none after it.
    late = [ts - base for _node, ts in process.stored(["n2"])]
    assert all(1 <= k < refused_from for k in late), late
    refused = (sent - 1) - len(late)
    assert refused >= 5
    line = totals(process)
    assert f"rejected {refused} (unknown_node {refused})" in line, line
    engine = make_engine(process.users_url)
    letters = recent_rejections(make_session_factory(engine), limit=1000)
    engine.dispose()
    assert [(letter.node_id, letter.reason) for letter in letters] == [("n2", "unknown_node")] * refused


def test_the_daemon_presents_its_client_certificate_to_a_broker_that_requires_one(tmp_path: Path) -> None:
    with Broker(tmp_path / "mosquitto", users=dict(USERS), require_certificate=True) as broker:
        # Without a certificate: refused by TLS (with TLS 1.3 the broker's alert comes on the first
        # read after the handshake), although the password is right, again at every attempt.
        without = IngestProcess(tmp_path / "without", broker, extra_env={"MQTT_CLIENT_ID": "ingest-without-cert"})
        without.workdir.mkdir()
        make_users_db(without.users_url, NODES)
        try:
            without.start(wait=False)
            without.wait_for(r"alert certificate required|alert handshake failure", count=2)
            assert without.stop() == 0
        finally:
            without.kill()
        assert "connected to" not in without.log()
        # The daemon's own line says what to check, not "disconnected ... redelivered".
        assert "closed the connection before accepting it" in without.log() and "MQTT_CERT_FILE" in without.log()
        assert "unacknowledged messages will be redelivered" not in without.log()
        # With one and no password at all: the broker takes the certificate's CN as the username,
        # and the ACL lets that user (the ingest's) read every node's telemetry.
        cert = make_client_cert(broker.pki, INGEST_USER)
        ingest = IngestProcess(tmp_path / "with", broker, extra_env={
            "MQTT_CLIENT_ID": "ingest-with-cert", "MQTT_CERT_FILE": str(cert.cert), "MQTT_KEY_FILE": str(cert.key)})
        del ingest.env["MQTT_USR"], ingest.env["MQTT_PASS"]
        ingest.workdir.mkdir()
        make_users_db(ingest.users_url, NODES)
        try:
            ingest.start()
            node = broker.client("n1", cert=make_client_cert(broker.pki, "n1"))
            now = int(time.time())
            publish_all(node, [("enertrack/n1/telemetry", json.dumps({"ts": now - 1, "p": 5}))])
            node.disconnect()
            assert ingest.wait_stored(NODES, 1) == [("n1", now - 1)]
            assert ingest.stop() == 0
        finally:
            ingest.kill()


def _bad_cases() -> list[tuple[str, str, bytes, Reason]]:
    """(publishing user, topic, payload, reason) for every reason a broker lets through."""
    cases = []
    for name, topic, payload, reason, _hint in REJECTED:
        raw = payload.encode() if isinstance(payload, str) else payload
        if reason == Reason.BAD_TOPIC or len(raw) > MAX_PAYLOAD_BYTES:
            continue  # the ACL and message_size_limit stop these at the broker
        if "ahead" in name:
            continue  # relative to the table's fixed clock: replaced below by the real one
        cases.append(("n1", topic.replace("meter-1", "n1"), raw, reason))
    ahead = int(time.time()) + 600
    cases.append(("n1", "enertrack/n1/telemetry", f'{{"ts": {ahead}, "p": 1}}'.encode(), Reason.TS_FUTURE))
    cases.append(("n1", "enertrack/n1/telemetry", f'{{"ts": {ahead * 1000}, "p": 1}}'.encode(), Reason.TS_FUTURE))
    cases.append(("ghost", "enertrack/ghost/telemetry", b'{"p": 1}', Reason.UNKNOWN_NODE))
    cases.append(("bad.id", "enertrack/bad.id/telemetry", b'{"p": 1}', Reason.BAD_TOPIC))
    return cases


def test_bad_input_is_counted_by_reason_and_valid_readings_around_it_are_stored(
    broker: Broker, ingest: IngestProcess
) -> None:
    ingest.start()
    cases = _bad_cases()
    clients = {user: broker.client(user) for user in {c[0] for c in cases} | {"n2"}}
    base = int(time.time()) - 1000
    valid = []
    for i, (user, topic, payload, _reason) in enumerate([*cases, (None, "", b"", None)]):
        publish_all(clients["n2"], [("enertrack/n2/telemetry", json.dumps({"ts": base + i, "p": i}))])
        valid.append(("n2", base + i))
        if user is not None:
            publish_all(clients[user], [(topic, payload)])
    for client in clients.values():
        client.disconnect()
    assert ingest.wait_stored(NODES, len(valid)) == valid
    expected = Counter(reason.value for *_, reason in cases)
    assert ingest.stop() == 0
    line = totals(ingest)
    counted = dict((r, int(n)) for r, n in re.findall(r"(\w+) (\d+)", line.split("rejected ", 1)[1].split(")")[0]))
    assert counted == dict(expected), line
    # The broker drops too_large first; SQLite refuses no valid reading (store_rejected is
    # tested with stores that do, in test_ingest_logic.py); retained has its own test below.
    assert set(expected) == {r.value for r in Reason} - {Reason.TOO_LARGE.value, Reason.STORE_REJECTED.value,
                                                         Reason.RETAINED.value}
    # Every rejection is in the dead-letter list that `enertrack ingest errors` prints.
    engine = make_engine(ingest.users_url)
    letters = recent_rejections(make_session_factory(engine), limit=1000)
    engine.dispose()
    assert Counter(letter.reason for letter in letters) == expected
    out = subprocess.run([sys.executable, "-m", "enertrack.cli.main", "ingest", "errors", "--node", "ghost"],
                         cwd=ROOT, env=ingest.env, capture_output=True, text=True, check=True).stdout
    assert "ghost  unknown_node  enertrack/ghost/telemetry" in out and "enertrack node add" in out


def test_a_burst_of_readings_without_ts_is_stored_in_full(broker: Broker, ingest: IngestProcess) -> None:
    # A node flushing its buffer after a reconnect: 300 readings without ts within a second or two.
    # Each used to get the second of receipt, and all but one per second were dropped as duplicates.
    ingest.start()
    client = broker.client("n1")
    started = int(time.time())
    publish_all(client, [("enertrack/n1/telemetry", json.dumps({"p": i})) for i in range(300)])
    client.disconnect()
    rows = ingest.wait_stored(["n1"], 300)
    assert len(rows) == 300 and rows[0][1] >= started
    assert [ts for _node, ts in rows] == list(range(rows[0][1], rows[0][1] + 300))  # one second each
    with SQLiteStore(ingest.tsdb) as store:
        assert sorted(r.power for r in store.readings("n1")) == [float(i) for i in range(300)]
    assert ingest.stop() == 0
    line = totals(ingest)
    assert "stored 300, without ts 300, duplicates 0," in line, line


def test_retained_telemetry_is_rejected_when_the_broker_replays_it(broker: Broker, ingest: IngestProcess) -> None:
    now = int(time.time())
    client = broker.client("n2")
    try:
        # Retained before the daemon subscribes: the broker replays it with the retain flag set.
        publish_all(client, [("enertrack/n2/telemetry", json.dumps({"ts": now - 30, "p": 7}))], retain=True)
        ingest.start()
        ingest.wait_for(r"rejected retained from node n2 on enertrack/n2/telemetry: telemetry was published "
                        r"with the retain flag")
        # Published retained while the daemon is connected: it arrives live, without the flag, and is stored.
        publish_all(client, [("enertrack/n2/telemetry", json.dumps({"ts": now - 20, "p": 8}))], retain=True)
        assert ingest.wait_stored(["n2"], 1) == [("n2", now - 20)]
        assert ingest.stop() == 0
        ingest.start()  # subscribing again: the broker replays its retained copy, which is not stored again
        ingest.wait_for(r"rejected retained from node n2")
    finally:
        publish_all(client, [("enertrack/n2/telemetry", b"")], retain=True)  # clears the broker's copy
        client.disconnect()
    ingest.wait_for(r"rejected bad_json from node n2")  # the clearing message, delivered live
    assert ingest.stop() == 0
    assert ingest.stored(["n2"]) == [("n2", now - 20)]
    engine = make_engine(ingest.users_url)
    letters = recent_rejections(make_session_factory(engine))
    engine.dispose()
    assert [(r.reason, r.excerpt) for r in reversed(letters)] == [
        ("retained", json.dumps({"ts": now - 30, "p": 7})), ("retained", json.dumps({"ts": now - 20, "p": 8})),
        ("bad_json", "")]
