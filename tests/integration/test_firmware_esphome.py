"""The ESPHome alternative: `esphome config` accepts the YAML, and its lambdas compile and build the canonical JSON.

`esphome config` validates the YAML but does not compile lambdas, so the lambdas are taken out of
the YAML here and compiled with g++ against the same header (include/enertrack_json.h) and a few
lines standing in for ESPHome's `id()`, sensors and SNTP clock.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.mqtt_broker import ROOT, make_pki
from tests.services import need

FIRMWARE = ROOT / "firmware"
YAML = FIRMWARE / "esphome" / "enertrack-node.yaml"
ESPHOME = FIRMWARE / ".venv-esphome" / "bin" / "esphome"

# ESPHome's shapes, reduced to what the lambdas touch: id() dereferences a component pointer.
HARNESS = """
#include <cmath>
#include <cstdio>
#include <string>
#include "enertrack_json.h"
#define ESPHOME_VERSION "2026.6.5"
struct Sensor { float state = NAN; };
struct ESPTime { long long timestamp; bool valid; bool is_valid() const { return valid; } };
struct SNTPComponent { ESPTime time{0, false}; ESPTime now() const { return time; } };
template<typename T> T &id(T *value) { return *value; }
Sensor v, i, p, e, f, pf, rssi, up;
Sensor *pzem_voltage = &v, *pzem_current = &i, *pzem_power = &p, *pzem_energy = &e, *pzem_frequency = &f,
       *pzem_power_factor = &pf, *wifi_rssi = &rssi, *uptime_seconds = &up;
SNTPComponent clock_; SNTPComponent *sntp_time = &clock_;
void forget() { %(forget)s }
bool ready() { %(ready)s }
std::string payload() { %(payload)s }
void show() { std::printf("%%d %%s\\n", ready() ? 1 : 0, payload().c_str()); }
int main() {
  show();  // nothing read, no clock
  clock_.time = ESPTime{1750000000, true};
  v.state = 230.4f; i.state = 1.27f; p.state = 281.5f; e.state = 1234567.0f; f.state = 50.0f; pf.state = 0.96f;
  rssi.state = -67.4f; up.state = 3600.0f;
  show();  // everything measured
  forget();
  p.state = 12.0f;
  show();  // only the power answered
  forget();
  show();  // the meter did not answer
}
"""


def lambda_after(marker: str) -> str:
    """The body of the `|-` block that follows the line containing marker in the YAML."""
    lines = YAML.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if marker in line)
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return textwrap.dedent("\n".join(body))


def test_the_yaml_lambdas_compile_against_the_header_and_build_the_canonical_json(tmp_path: Path) -> None:
    need(shutil.which("g++") is not None, "g++ not found: sudo apt-get install -y g++")
    source = tmp_path / "lambdas.cpp"
    source.write_text(HARNESS % {"forget": lambda_after("- lambda: |-"),  # the interval's first action
                                 "ready": lambda_after("            lambda: |-"),  # the if's condition
                                 "payload": lambda_after("payload: !lambda |-")})
    binary = tmp_path / "lambdas"
    build = subprocess.run(["g++", "-std=gnu++17", "-Wall", "-Werror", f"-I{FIRMWARE / 'include'}", str(source),
                            "-o", str(binary)], capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr + source.read_text()
    lines = subprocess.run([str(binary)], capture_output=True, text=True, timeout=10, check=True).stdout.splitlines()
    ready = [line.split(" ", 1)[0] == "1" for line in lines]
    payloads = [json.loads(line.split(" ", 1)[1]) for line in lines]
    assert ready == [False, True, True, False]  # no clock, no measurement: nothing is published
    assert payloads[1] == {"ts": 1750000000000, "voltage": 230.4, "current": 1.27, "power": 281.5,
                           "energy": 1234.567, "power_factor": 0.96, "frequency": 50,
                           "fw": "esphome-2026.6.5", "rssi": -67, "uptime_s": 3600}
    assert {k: v for k, v in payloads[2].items() if k not in {"fw", "rssi", "uptime_s"}} == {
        "ts": 1750000000000, "power": 12}  # the other fields are left out, never stale, never 0


@pytest.mark.slow
def test_esphome_config_accepts_the_yaml(tmp_path: Path) -> None:
    need(ESPHOME.exists(), f"{ESPHOME} is missing: run `make firmware` (it creates firmware/.venv-esphome)")
    # The same relative layout as the repository (the YAML includes ../include/enertrack_json.h),
    # with a secrets.yaml holding a real CA certificate.
    (tmp_path / "esphome").mkdir()
    (tmp_path / "include").mkdir()
    shutil.copy(YAML, tmp_path / "esphome" / YAML.name)
    shutil.copy(FIRMWARE / "include" / "enertrack_json.h", tmp_path / "include")
    ca = make_pki(tmp_path / "pki").ca_cert.read_text()
    secrets = re.sub(r"mqtt_ca: \|\n(  .*\n)+", "", (FIRMWARE / "esphome" / "secrets.example.yaml").read_text())
    secrets += "mqtt_ca: |\n" + "".join(f"  {line}\n" for line in ca.splitlines())
    (tmp_path / "esphome" / "secrets.yaml").write_text(secrets)
    result = subprocess.run([str(ESPHOME), "config", YAML.name], cwd=tmp_path / "esphome", capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Configuration is valid!" in result.stdout + result.stderr
    # What ESPHome made of it: the canonical topics, QoS 1, the retained Last Will.
    shown = result.stdout
    assert "topic: enertrack/meter-1/telemetry" in shown and "qos: 1" in shown
    assert re.search(r"will_message:\s+topic: enertrack/meter-1/status\s+payload: offline", shown)


@pytest.mark.slow
def test_the_node_pages_esphome_snippet_configures_the_package(tmp_path: Path) -> None:
    from enertrack.web.services.device_setup import DeviceSetup, esphome, esphome_name

    need(ESPHOME.exists(), f"{ESPHOME} is missing: run `make firmware` (it creates firmware/.venv-esphome)")
    (tmp_path / "esphome").mkdir()
    (tmp_path / "include").mkdir()
    shutil.copy(YAML, tmp_path / "esphome" / YAML.name)
    shutil.copy(FIRMWARE / "include" / "enertrack_json.h", tmp_path / "include")
    shutil.copy(FIRMWARE / "esphome" / "secrets.example.yaml", tmp_path / "esphome" / "secrets.yaml")
    setup = DeviceSetup("Casa_01", "mqtt.example.org", 18883, "site", 30, None, True, True)
    node_file = tmp_path / "esphome" / f"{esphome_name(setup.node_id)}.yaml"
    node_file.write_text(esphome(setup, "pw-AbC_123"))
    result = subprocess.run([str(ESPHOME), "config", node_file.name], cwd=tmp_path / "esphome", capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    shown = re.sub(r"\x1b\[\d+m|\\033\[\d+m", "", result.stdout)  # ESPHome hides passwords behind ANSI codes
    for line in ("broker: mqtt.example.org", "port: 18883", "username: Casa_01", "password: pw-AbC_123",
                 "topic: site/Casa_01/telemetry", "name: enertrack-casa-01"):
        assert line in shown, line
