"""Snippets for a device, in the firmware's field names, checked by what reads them (a C++ compiler, JSON)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from enertrack.web.services.device_setup import (
    DeviceSetup,
    esphome,
    esphome_name,
    mosquitto_pub,
    secrets_h,
    serial_console,
)
from tests.services import need_binary

CA = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIU\nAbC+/=\n-----END CERTIFICATE-----\n"
SETUP = DeviceSetup("Casa_01", "mqtt.example.org", 8883, "site/a", 30, CA, True, True)
# The firmware's names (decisions shared with firmware/): every `set` in the console snippet is one of them.
FIELDS = {"wifi_ssid", "wifi_password", "mqtt_host", "mqtt_port", "mqtt_ca", "node_id", "mqtt_user", "mqtt_password",
          "interval_s"}


def test_serial_console_sets_every_field_then_saves() -> None:
    lines = serial_console(SETUP, "pw-1").splitlines()
    sets = {line.split()[1] for line in lines if line.startswith("set ")}
    assert sets == FIELDS
    assert "set mqtt_password pw-1" in lines and "set mqtt_user Casa_01" in lines and "set interval_s 30" in lines
    ca_at = lines.index("set mqtt_ca")
    assert lines[ca_at + 1:ca_at + 5] == CA.strip().splitlines() and lines[ca_at + 5] == ""  # ended by an empty line
    assert lines[-1] == "save"


def test_without_a_password_there_is_a_placeholder_not_a_guess() -> None:
    assert "set mqtt_password <password>" in serial_console(SETUP, None)
    assert "-P '<password>'" in mosquitto_pub(SETUP, None)


def test_secrets_h_compiles_to_the_same_values(tmp_path: Path) -> None:
    compiler = need_binary("g++", "apt-get install g++")
    (tmp_path / "secrets.h").write_text(secrets_h(SETUP, "pw-\"quoted\"\\"))
    (tmp_path / "main.cpp").write_text(
        '#include <cstdio>\n#include "secrets.h"\nint main() {\n'
        '  std::printf("%s|%s|%s|%s|%s|%s|%s", ENERTRACK_MQTT_HOST, ENERTRACK_MQTT_PORT, ENERTRACK_NODE_ID,\n'
        '              ENERTRACK_MQTT_USER, ENERTRACK_MQTT_PASSWORD, ENERTRACK_INTERVAL_S, ENERTRACK_MQTT_CA);\n}\n')
    subprocess.run([compiler, "-Wall", "-Werror", "-o", str(tmp_path / "show"), str(tmp_path / "main.cpp")],
                   check=True, capture_output=True)
    shown = subprocess.run([str(tmp_path / "show")], check=True, capture_output=True, text=True).stdout
    assert shown == f'mqtt.example.org|8883|Casa_01|Casa_01|pw-"quoted"\\|30|{CA}'


def test_esphome_fills_the_packages_substitutions() -> None:
    lines = esphome(SETUP, "pw-1").splitlines()
    start, packages = lines.index("substitutions:"), lines.index("packages:")
    values = {line.split(":", 1)[0].strip(): json.loads(line.split(":", 1)[1])
              for line in lines[start + 1:packages]}
    assert values == {"node_id": "Casa_01", "device_name": "enertrack-casa-01", "topic_prefix": "site/a",
                      "interval": "30s", "mqtt_host": "mqtt.example.org", "mqtt_port": "8883",
                      "mqtt_user": "Casa_01", "mqtt_password": "pw-1"}
    assert lines[packages + 1] == "  enertrack: !include enertrack-node.yaml"


def test_esphome_names_are_valid_host_names() -> None:
    assert esphome_name("A_very_long_node_id_that_goes_on_and_on") == "enertrack-a-very-long-node-id-t"
    assert len(esphome_name("x" * 64)) <= 31


def test_mosquitto_pub_publishes_as_the_node_into_its_topic() -> None:
    command = mosquitto_pub(SETUP, "pw-1")
    assert "-u Casa_01 -P pw-1 -i Casa_01 -q 1 -t site/a/Casa_01/telemetry" in command
    assert "--cafile enertrack-ca.crt" in command
