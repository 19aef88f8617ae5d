"""A private Mosquitto with the dynamic-security plugin, its admin made by `mosquitto_ctrl dynsec init`.

The shipped deploy/mosquitto.conf is rendered without its password and ACL files and with the
plugin lines docs/operations.md tells operators to add, so the tests run what operators install.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from enertrack.config import Settings, load_settings
from tests.mqtt_broker import HINT, INGEST_PASSWORD, INGEST_USER, Broker
from tests.services import need, need_binary

ADMIN_USER = "enertrack-admin"
ADMIN_PASSWORD = "dynsec-admin-secret-pw"
PLUGIN_NAME = "mosquitto_dynamic_security.so"


def plugin_path() -> str:
    """Where Debian's mosquitto package installed the plugin (dpkg -L), else skip saying why."""
    try:
        listed = subprocess.run(["dpkg", "-L", "mosquitto"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        listed = ""
    found = [line for line in listed.splitlines() if line.endswith(PLUGIN_NAME)]
    for candidate in [*found, f"/usr/lib/x86_64-linux-gnu/{PLUGIN_NAME}", f"/usr/lib/{PLUGIN_NAME}"]:
        if Path(candidate).is_file():
            return candidate
    need(False, f"{PLUGIN_NAME} not found: {HINT}")
    raise AssertionError("unreachable")


@dataclass
class DynsecBroker(Broker):
    """A Broker whose accounts live in the plugin: EnerTrack (or the test) creates them live."""

    def __post_init__(self) -> None:
        self.plugin = plugin_path()
        self.ctrl = need_binary("mosquitto_ctrl", HINT)
        self.dynsec_file = self.workdir / "dynamic-security.json"
        super().__post_init__()
        if not self.dynsec_file.exists():
            subprocess.run([self.ctrl, "dynsec", "init", str(self.dynsec_file), ADMIN_USER, ADMIN_PASSWORD],
                           check=True, capture_output=True)

    def _add_password(self, user: str, password: str) -> None:
        """Accounts are the plugin's: nothing to write into a password file."""

    def add_user(self, user: str, password: str) -> None:
        """Remember a password EnerTrack issued, for client()."""
        self.users[user] = password

    def _write_config(self) -> None:
        super()._write_config()
        text = self.conf_file.read_text()
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(("password_file ", "acl_file ")))
        text += f"\nplugin {self.plugin}\nplugin_opt_config_file {self.dynsec_file}\n"
        self.conf_file.write_text(text)

    def settings(self, **extra: Any) -> Settings:
        """EnerTrack's settings for this broker, with dynsec provisioning and the admin account."""
        env = {**self.settings_env(), "ENERTRACK_BROKER_PROVISIONING": "dynsec",
               "ENERTRACK_BROKER_ADMIN_USER": ADMIN_USER, "ENERTRACK_BROKER_ADMIN_PASSWORD": ADMIN_PASSWORD,
               "ENERTRACK_ENV": "development", **extra}
        return load_settings(check=True, _env_file=None, **env)

    def settings_env(self, user: str = INGEST_USER) -> dict[str, str]:
        """As Broker's, with the ingest password the tests give the account (sync creates it)."""
        self.users.setdefault(INGEST_USER, INGEST_PASSWORD)
        return super().settings_env(user)


def dynsec_fixture(tmp_path_factory: Any, **kwargs: Any) -> Iterator[DynsecBroker]:
    """Body of a pytest fixture: a started dynsec broker, stopped afterwards."""
    broker = DynsecBroker(tmp_path_factory.mktemp("dynsec"), **kwargs)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class Device:
    """A node's device: connected with a password, watching for the broker to cut it off."""

    def __init__(self, broker: Broker, user: str, password: str, *, client_id: str = "") -> None:
        self.lost = threading.Event()
        self.connected = threading.Event()
        self.refused: list[str] = []
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self._acked = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, password)
        if broker.tls:
            import ssl

            self.client.tls_set_context(ssl.create_default_context(cafile=str(broker.pki.ca_cert)))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.broker = broker

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        if reason.is_failure:
            self.refused.append(str(reason))
        else:
            self.connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, _reason: object, _p: object) -> None:
        if self.connected.is_set():
            self.lost.set()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: mqtt.ReasonCode, _p: object) -> None:
        with self._acked:
            self.acks[mid] = reason
            self._acked.notify_all()

    def connect(self, timeout: float = 10.0) -> bool:
        """True when the broker accepted the connection, False when it refused it."""
        self.client.connect("127.0.0.1", self.broker.port, keepalive=30)
        self.client.loop_start()
        for _ in range(int(timeout * 20)):
            if self.connected.is_set() or self.refused:
                break
            self.connected.wait(0.05)
        if not self.connected.is_set():
            self.client.loop_stop()  # no retries with a refused password
        return self.connected.is_set()

    def publish(self, topic: str, payload: str, timeout: float = 10.0) -> str:
        """"accepted" for one QoS 1 message the broker took, else its PUBACK reason ("Not authorized")."""
        mid = self.client.publish(topic, payload, qos=1).mid
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self.acks, timeout):
                raise TimeoutError(f"no PUBACK for {topic} within {timeout} s")
            reason = self.acks.pop(mid)
        # "No matching subscribers" is a success too: nobody happened to be subscribed.
        return str(reason) if reason.is_failure else "accepted"

    def close(self) -> None:
        """Disconnect and stop the network loop."""
        self.client.disconnect()
        self.client.loop_stop()
