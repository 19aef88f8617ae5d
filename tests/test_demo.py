"""`enertrack demo` (what `make run` starts): serves the login page quickly and the demo login works."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.services import free_port

pytestmark = pytest.mark.slow
UPDATE = "/enertrack/_dash-update-component"


def start_demo(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {**os.environ, "ENERTRACK_DATA_DIR": str(tmp_path / "data")}
    for name in ("DOMINIO", "PUERTO_MQTTS", "DATABASE_URL", "MYSQL_USER", "MYSQL_DB", "INFLUX_URL"):
        env.pop(name, None)
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "enertrack.cli", "demo", "--port", str(port), *args],
                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    return process, port


@pytest.fixture
def stopper() -> Iterator[list[subprocess.Popen[str]]]:
    running: list[subprocess.Popen[str]] = []
    yield running
    for process in running:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_banner(process: subprocess.Popen[str], log: Path, timeout: float = 60) -> list[str]:
    """Lines printed until the 'Demo login' banner (fails after timeout or if the demo exits)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Demo login" in text:
            return text.splitlines()
        assert process.poll() is None, text[-3000:]
        time.sleep(0.2)
    raise AssertionError("no banner within 60 s:\n" + text[-3000:])


def demo_login(port: int) -> requests.Session:
    """Log in with the printed demo credentials, as a browser would (CSRF token from its callback)."""
    base = f"http://127.0.0.1:{port}"
    web = requests.Session()
    assert web.get(base + "/enertrack/login", timeout=10).status_code == 200
    form = {"form": "login", "type": "csrf"}
    body = {"output": '{"form":["ALL"],"type":"csrf"}.value', "outputs": [{"id": form, "property": "value"}],
            "inputs": [[{"id": form, "property": "id", "value": form}]], "state": [], "changedPropIds": []}
    token = next(iter(web.post(base + UPDATE, json=body, timeout=10).json()["response"].values()))["value"]
    response = web.post(base + "/enertrack/login", data={"username": "demo", "password": "enertrack-demo",
                                                         "csrf_token": token}, allow_redirects=False, timeout=10)
    assert response.status_code == 303 and response.headers["Location"] == "/enertrack/"
    assert web.get(base + "/enertrack/nodes", allow_redirects=False, timeout=10).status_code == 200
    return web


def readings(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "data" / "timeseries.sqlite3", timeout=10) as conn:
        return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])


def test_demo_serves_within_a_minute_and_goes_live(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    started = time.monotonic()
    process, port = start_demo(tmp_path)
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert time.monotonic() - started < 60
    assert any(f"http://localhost:{port}/enertrack/" in line for line in lines)
    demo_login(port)
    # History first (5 nodes x 90 days x 10 s), then live readings through the broker and the daemon.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if Path(tmp_path / "data" / "timeseries.sqlite3").exists() and readings(tmp_path) > 5 * 90 * 8640:
            break
        time.sleep(1)
    assert readings(tmp_path) > 5 * 90 * 8640, "no live reading arrived after the history"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=40) == 0


def test_demo_without_a_broker_writes_live_readings_directly(tmp_path: Path,
                                                            stopper: list[subprocess.Popen[str]]) -> None:
    process, port = start_demo(tmp_path, "--broker", "none")
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any("Broker: none" in line for line in lines)
    demo_login(port)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and readings(tmp_path) <= 5 * 90 * 8640:
        time.sleep(1)
    assert readings(tmp_path) > 5 * 90 * 8640
