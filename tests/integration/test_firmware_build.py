"""`make firmware`'s checks from pytest: the core's unit tests pass, and the Arduino layer type-checks against the stubs.

The stub check is only worth something if it refuses wrong code: a call the real libraries do
not offer (WiFiClientSecure::setInsecure, which must never be used) fails the build.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.mqtt_broker import ROOT
from tests.services import need

FIRMWARE = ROOT / "firmware"


@pytest.fixture(scope="module")
def make() -> str:
    tools = shutil.which("make") and shutil.which("g++") and Path("/usr/include/doctest/doctest.h").exists()
    need(bool(tools), "the firmware's host build needs make, g++ and doctest-dev: "
                      "sudo apt-get install -y g++ doctest-dev (or run `make firmware`)")
    return str(shutil.which("make"))


def test_the_cores_unit_tests_pass(make: str) -> None:
    result = subprocess.run([make, "-C", str(FIRMWARE), "--no-print-directory", "test"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Status: SUCCESS!" in result.stdout


def test_the_arduino_layer_compiles_against_the_stub_headers(make: str, tmp_path: Path) -> None:
    result = subprocess.run([make, "-C", str(FIRMWARE), "--no-print-directory", "-B", f"BUILD={tmp_path}",
                             f"{tmp_path}/arduino-layer.ok"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "check src/main.cpp with include/secrets.example.h as secrets.h" in result.stdout


def test_the_stub_check_refuses_an_insecure_tls_client(make: str, tmp_path: Path) -> None:
    for name in ("esp32_ports.cpp", "esp32_ports.h"):
        shutil.copy(FIRMWARE / "src" / name, tmp_path / name)
    source = tmp_path / "esp32_ports.cpp"
    text = source.read_text()
    assert "tls_.setCACert(" in text
    source.write_text(text.replace("tls_.setCACert(", "tls_.setInsecure();\n  tls_.setCACert(", 1))
    result = subprocess.run([make, "-C", str(FIRMWARE), "--no-print-directory", "-B", f"BUILD={tmp_path}/build",
                             f"ARDUINO_SRC={source}", f"{tmp_path}/build/arduino-layer.ok"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "has no member named 'setInsecure'" in result.stderr.replace("‘", "'").replace("’", "'")
