"""The compose stack's broker, run here with Debian's mosquitto: deploy/compose/mosquitto.conf and
mosquitto-init.sh as shipped (paths moved to a temp dir), certificates from `enertrack certs init`,
and the real ingest daemon logged in with the account the init made."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from tests.ingest_process import IngestProcess, make_users_db
from tests.mqtt_broker import HINT, ROOT, environ_without_mqtt, publish_all
from tests.services import free_port, need, need_binary, port_open

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

COMPOSE = ROOT / "deploy" / "compose"
ADMIN = ("broker-admin", "admin-password-123")
INGEST = ("enertrack-ingest", "ingest-password-123")


@dataclass
class ComposeBroker:
    """The compose broker's files in a temp dir, and the process once started."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca(self) -> Path:
        return self.workdir / "broker-certs" / "ca.crt"

    def settings_env(self) -> dict[str, str]:
        """What docker-compose.yml gives the ingest container, pointed at this broker."""
        return {"DOMINIO": "127.0.0.1", "PUERTO_MQTTS": str(self.port), "MQTT_TLS": "true",
                "MQTT_CA_FILE": str(self.ca), "MQTT_USR": INGEST[0], "MQTT_PASS": INGEST[1]}

    def ctrl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """mosquitto_ctrl as the admin account, over TLS, as EnerTrack's provisioning would talk to it."""
        return subprocess.run(["mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(self.port), "--cafile", str(self.ca),
                               "-u", ADMIN[0], "-P", ADMIN[1], "dynsec", *args], capture_output=True, text=True)


def _plugin() -> str:
    found = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob("/usr/lib/mosquitto_dynamic_security.so")
    need(bool(found), "mosquitto's dynamic-security plugin is missing: " + HINT)
    return found[0]


def _init(workdir: Path, port: int, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**environ_without_mqtt(), "CERTS_SRC": str(workdir / "certs"), "CERTS_DIR": str(workdir / "broker-certs"),
           "DATA_DIR": str(workdir / "data"), "PLUGIN": _plugin(), "INIT_PORT": str(free_port()),
           "BROKER_USER": "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
           "ENERTRACK_BROKER_ADMIN_USER": ADMIN[0], "ENERTRACK_BROKER_ADMIN_PASSWORD": ADMIN[1],
           "MQTT_USR": INGEST[0], "MQTT_PASS": INGEST[1], **extra}
    return subprocess.run(["sh", str(COMPOSE / "mosquitto-init.sh")], env=env, capture_output=True, text=True,
                          timeout=60)


def _config(workdir: Path, port: int) -> Path:
    text = (COMPOSE / "mosquitto.conf").read_text()
    for old, new in (("/usr/lib/mosquitto_dynamic_security.so", _plugin()), ("/mosquitto/data/", f"{workdir}/data/"),
                     ("/mosquitto/certs/", f"{workdir}/broker-certs/"), ("listener 8883", f"listener {port} 127.0.0.1"),
                     ("log_dest stdout", f"log_dest file {workdir}/mosquitto.log")):
        assert old in text, old
        text = text.replace(old, new)
    path = workdir / "mosquitto.conf"
    path.write_text(text + ("user root\n" if os.geteuid() == 0 else ""))
    return path


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ComposeBroker]:
    need_binary("mosquitto_ctrl", HINT)
    made = CliRunner().invoke(main, ["certs", "init", "--dir", str(tmp_path / "certs"), "--san", "mosquitto",
                                     "--san", "127.0.0.1"],
                              env={"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path),
                                   "DOMINIO": "localhost"})
    assert made.exit_code == 0, made.output
    found = ComposeBroker(tmp_path, free_port())
    done = _init(tmp_path, found.port)
    assert done.returncode == 0, done.stdout + done.stderr
    found.process = subprocess.Popen([need_binary("mosquitto", HINT), "-c", str(_config(tmp_path, found.port))],
                                     stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", found.port, timeout=0.1):
        assert found.process.poll() is None and time.monotonic() < deadline, (tmp_path / "mosquitto.log").read_text()
    yield found
    if found.process.poll() is None:
        found.process.terminate()
        found.process.wait(10)


def _connect(broker: ComposeBroker, user: str | None, password: str | None) -> mqtt.Client | str:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if user:
        client.username_pw_set(user, password)
    client.tls_set(ca_certs=str(broker.ca))
    result: list[mqtt.ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not result and time.monotonic() < deadline:
        time.sleep(0.05)
    if not result or result[0].is_failure:
        client.loop_stop()
        return str(result[0]) if result else "timeout"
    return client


def test_anonymous_and_wrong_passwords_are_refused(broker: ComposeBroker) -> None:
    assert _connect(broker, None, None) == "Not authorized"
    assert _connect(broker, INGEST[0], "wrong-password") == "Not authorized"
    admin = _connect(broker, *ADMIN)
    assert isinstance(admin, mqtt.Client)
    admin.disconnect()


def test_the_ingest_account_stores_readings_and_health_follows_the_connection(
    broker: ComposeBroker, tmp_path: Path
) -> None:
    # What the web app's provisioning does for a node: an account named after it, publishing only its topics.
    for args in (("createClient", "casa-1", "-p", "casa-1-password"), ("createRole", "node-casa-1"),
                 ("addRoleACL", "node-casa-1", "publishClientSend", "enertrack/casa-1/#", "allow"),
                 ("addClientRole", "casa-1", "node-casa-1")):
        done = broker.ctrl(*args)
        assert done.returncode == 0, done.stdout + done.stderr
    daemon = IngestProcess(tmp_path / "ingest", broker)  # type: ignore[arg-type]
    make_users_db(daemon.users_url, ["casa-1"])
    daemon.start()
    try:
        node = _connect(broker, "casa-1", "casa-1-password")
        assert isinstance(node, mqtt.Client)
        publish_all(node, [("enertrack/casa-1/telemetry", json.dumps({"ts": int(time.time()) - 3, "p": 42.5}))])
        node.disconnect()
        assert len(daemon.wait_stored(["casa-1"], 1)) == 1
        health = [sys.executable, "-m", "enertrack.cli.main", "ingest", "health"]
        env = {**daemon.env}
        assert subprocess.run(health, env=env, capture_output=True, timeout=60).returncode == 0
        assert broker.process is not None
        broker.process.terminate()
        broker.process.wait(10)
        deadline = time.monotonic() + 20
        while (checked := subprocess.run(health, env=env, capture_output=True, text=True, timeout=60)).returncode == 0:
            assert time.monotonic() < deadline, "health still passes with the broker gone"
            time.sleep(0.5)
        assert checked.returncode == 1 and "not connected to the broker" in checked.stderr
    finally:
        daemon.kill()


def test_the_ingest_account_may_subscribe_but_not_publish(broker: ComposeBroker) -> None:
    ingest = _connect(broker, *INGEST)
    admin = _connect(broker, *ADMIN)
    assert isinstance(ingest, mqtt.Client) and isinstance(admin, mqtt.Client)
    seen: list[str] = []
    admin.on_message = lambda _c, _u, message: seen.append(message.topic)
    admin.subscribe("enertrack/#", qos=1)
    granted: list[list[mqtt.ReasonCode]] = []
    ingest.on_subscribe = lambda _c, _u, _m, codes, _p: granted.append(codes)
    ingest.subscribe([("enertrack/+/telemetry", 1), ("enertrack/+/status", 1), ("#", 1)])
    time.sleep(1)
    assert [code.is_failure for code in granted[0]] == [False, False, True]  # the daemon's two, not everything
    ingest.publish("enertrack/casa-1/telemetry", '{"p": 1}', qos=1).wait_for_publish(5)
    time.sleep(1)
    assert seen == []  # the broker dropped what the ingest account tried to publish
    for client in (ingest, admin):
        client.disconnect()
        client.loop_stop()


def test_init_is_idempotent_and_says_what_is_missing(broker: ComposeBroker, tmp_path: Path) -> None:
    assert broker.process is not None
    broker.process.terminate()
    broker.process.wait(10)
    again = _init(tmp_path, broker.port, MQTT_PASS="a-new-ingest-password")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created" not in again.stdout  # nothing made twice; the ingest password is updated instead
    config = json.loads((tmp_path / "data" / "dynamic-security.json").read_text())
    assert sorted(c["username"] for c in config["clients"]) == sorted([ADMIN[0], INGEST[0]])
    missing = _init(tmp_path, broker.port, MQTT_PASS="")
    assert missing.returncode != 0 and "set MQTT_PASS in .env" in missing.stderr
    (tmp_path / "certs" / "server.key").unlink()
    no_cert = _init(tmp_path, broker.port)
    assert no_cert.returncode != 0 and "enertrack certs init --dir certs --san mosquitto" in no_cert.stderr
