"""What a device needs to connect as one node, and ready-to-paste configuration in the firmware's field names.

The field names are the firmware's (firmware/README.md): serial-console `set <field>`, the macros of
firmware/include/secrets.h, the ESPHome package's substitutions. Snippets are pure functions of a
DeviceSetup and, right after it was issued, the password.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from enertrack.config import Settings
from enertrack.web.services.nodes import owned

PASSWORD_PLACEHOLDER = "<password>"
CA_MAX_BYTES = 64 * 1024  # a CA bundle is a few KiB; anything larger is not what devices should get
CA_FILENAME = "enertrack-ca.crt"
ESPHOME_NAME_MAX = 31


@dataclass(frozen=True, slots=True)
class DeviceSetup:
    """One node's connection facts, as the node page shows them."""

    node_id: str
    host: str
    port: int
    prefix: str
    interval_s: int
    ca_pem: str | None  # the CA certificate devices trust (ENERTRACK_DEVICE_CA_FILE), when there is one
    provisioning: bool  # EnerTrack issues the password (else the broker's operator does)
    has_credentials: bool  # EnerTrack issued one, shown only when it was

    @property
    def telemetry_topic(self) -> str:
        """Where the node publishes readings."""
        return f"{self.prefix}/{self.node_id}/telemetry"

    @property
    def status_topic(self) -> str:
        """Where the node announces online/offline (and its Last Will)."""
        return f"{self.prefix}/{self.node_id}/status"


def device_ca(settings: Settings) -> str | None:
    """The PEM text of ENERTRACK_DEVICE_CA_FILE (else MQTT_CA_FILE), or None when unset or not a certificate."""
    path: Path | None = settings.device_ca_file
    if path is None:
        return None
    try:
        data = path.read_bytes()[: CA_MAX_BYTES + 1]
    except OSError:
        return None
    text = data.decode("ascii", errors="replace")
    if len(data) > CA_MAX_BYTES or "-----BEGIN CERTIFICATE-----" not in text:
        return None  # never hand devices (or browsers) a key or anything else by mistake
    return text.strip() + "\n"


def device_setup(session: Session, settings: Settings, user_id: int, node_id: Any, *, provisioning: bool,
                 ca_pem: str | None = None) -> DeviceSetup:
    """The user's node's connection facts; NodeNotFound for anyone else's."""
    node = owned(session, user_id, node_id)
    return DeviceSetup(node.node_id, settings.device_mqtt_host, settings.device_mqtt_port,
                       settings.mqtt_topic_prefix, node.interval_s, ca_pem, provisioning,
                       node.broker_password_hash is not None)


def _c(text: str) -> str:
    """A C string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def serial_console(setup: DeviceSetup, password: str | None) -> str:
    """Lines for the firmware's serial console (115200 baud), ending with `save`."""
    lines = [
        "set wifi_ssid <your Wi-Fi network>",
        "set wifi_password <your Wi-Fi password>",
        f"set mqtt_host {setup.host}",
        f"set mqtt_port {setup.port}",
        f"set node_id {setup.node_id}",
        f"set mqtt_user {setup.node_id}",
        f"set mqtt_password {password or PASSWORD_PLACEHOLDER}",
        f"set interval_s {setup.interval_s}",
    ]
    if setup.ca_pem:
        lines += ["set mqtt_ca", *setup.ca_pem.strip().splitlines(), ""]
    return "\n".join([*lines, "save"]) + "\n"


def secrets_h(setup: DeviceSetup, password: str | None) -> str:
    """firmware/include/secrets.h, pre-filling the device at compile time."""
    lines = [
        "// firmware/include/secrets.h (git-ignored): copied from secrets.example.h",
        f"#define ENERTRACK_WIFI_SSID {_c('<your Wi-Fi network>')}",
        f"#define ENERTRACK_WIFI_PASSWORD {_c('<your Wi-Fi password>')}",
        f"#define ENERTRACK_MQTT_HOST {_c(setup.host)}",
        f"#define ENERTRACK_MQTT_PORT {_c(str(setup.port))}",
        f"#define ENERTRACK_NODE_ID {_c(setup.node_id)}",
        f"#define ENERTRACK_MQTT_USER {_c(setup.node_id)}",
        f"#define ENERTRACK_MQTT_PASSWORD {_c(password or PASSWORD_PLACEHOLDER)}",
        f"#define ENERTRACK_INTERVAL_S {_c(str(setup.interval_s))}",
    ]
    if setup.ca_pem:
        body = [f"  {_c(line)[:-1]}\\n\"" for line in setup.ca_pem.strip().splitlines()]  # each line + "\n"
        lines += ["#define ENERTRACK_MQTT_CA \\", *[line + " \\" for line in body[:-1]], body[-1]]
    return "\n".join(lines) + "\n"


def esphome_name(node_id: str) -> str:
    """ESPHome's device name for a node: lower case, digits and '-', at most 31 characters."""
    return ("enertrack-" + node_id.lower().replace("_", "-"))[:ESPHOME_NAME_MAX].rstrip("-")


def esphome(setup: DeviceSetup, password: str | None) -> str:
    """A node file next to firmware/esphome/enertrack-node.yaml, filling in its substitutions."""
    values = {
        "node_id": setup.node_id,
        "device_name": esphome_name(setup.node_id),
        "topic_prefix": setup.prefix,
        "interval": f"{setup.interval_s}s",
        "mqtt_host": setup.host,
        "mqtt_port": str(setup.port),
        "mqtt_user": setup.node_id,
        "mqtt_password": password or PASSWORD_PLACEHOLDER,
    }
    lines = [f"# {esphome_name(setup.node_id)}.yaml, next to enertrack-node.yaml (firmware/esphome/);",
             "# Wi-Fi and the CA certificate (mqtt_ca) go in secrets.yaml.",
             "substitutions:", *[f"  {key}: {_yaml(value)}" for key, value in values.items()],
             "packages:", "  enertrack: !include enertrack-node.yaml"]
    return "\n".join(lines) + "\n"


def mosquitto_pub(setup: DeviceSetup, password: str | None) -> str:
    """One test reading with mosquitto_pub, as the node (the CA file downloaded from the node page)."""
    tls = f"--cafile {CA_FILENAME}" if setup.ca_pem else "--capath /etc/ssl/certs"
    args = [
        "mosquitto_pub", "-h", setup.host, "-p", str(setup.port), tls, "-u", setup.node_id,
        "-P", shlex.quote(password or PASSWORD_PLACEHOLDER), "-i", setup.node_id, "-q", "1",
        "-t", setup.telemetry_topic, "-m", shlex.quote('{"v": 230.1, "p": 120.5}'),
    ]
    return " ".join(args) + "\n"


SNIPPETS = {"serial": serial_console, "secrets_h": secrets_h, "esphome": esphome, "mosquitto_pub": mosquitto_pub}
