"""wsgi.py, what `gunicorn wsgi:server` loads: it serves, and a bad configuration is a few clear lines."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
SETTING_PREFIXES = ("MYSQL_", "INFLUX_", "MQTT_", "ENERTRACK_", "INGEST_", "RATELIMIT_")
SETTING_NAMES = ("DATABASE_URL", "DOMINIO", "PUERTO_MQTTS", "FLASK_SECRET_KEY")


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any EnerTrack setting, plus values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES) and k not in SETTING_NAMES}
    return {**env, **values}


def gunicorn(cwd: Path, env: dict[str, str], port: int) -> subprocess.Popen[str]:
    """The documented command, `gunicorn wsgi:server -b HOST:PORT`, with wsgi.py found on --pythonpath."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--pythonpath", str(ROOT), "wsgi:server", "-b", f"127.0.0.1:{port}"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_wsgi_server_answers_healthz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name in set(os.environ) - set(clean_env()):
        monkeypatch.delenv(name)
    monkeypatch.setenv("ENERTRACK_ENV", "development")
    monkeypatch.setenv("ENERTRACK_DATA_DIR", str(tmp_path))
    server = runpy.run_path(str(ROOT / "wsgi.py"))["server"]
    try:
        response = server.test_client().get("/enertrack/healthz")
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    finally:
        server.extensions["enertrack"].store.close()
        server.extensions["enertrack"].engine.dispose()


def test_a_bad_configuration_stops_gunicorn_with_one_line_per_problem(tmp_path: Path) -> None:
    process = gunicorn(tmp_path, clean_env(ENERTRACK_DATA_DIR=str(tmp_path), PUERTO_MQTTS="abc"), free_port())
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    # 4 is gunicorn's "App failed to load": it stops rather than booting the worker again and again.
    assert process.returncode == 4, output
    assert "error: PUERTO_MQTTS must be a port number, got 'abc'" in output
    assert "Traceback" not in output


def test_gunicorn_serves_wsgi_server(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(ENERTRACK_DATA_DIR=str(tmp_path), FLASK_SECRET_KEY="x" * 64)
    process = gunicorn(tmp_path, env, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                response = requests.get(f"http://127.0.0.1:{port}/enertrack/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # listening before the worker is ready
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.2)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
    finally:
        process.terminate()
        process.communicate(timeout=30)
