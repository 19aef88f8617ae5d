"""The built image: the web app by default, the ingest daemon and the CLI, non-root, data in /data."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from dotenv import dotenv_values

from tests.image.conftest import Image
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, publish_all
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET = {"FLASK_SECRET_KEY": "image-test-" + "k" * 40}


def _stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    return process.returncode


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            answer = requests.get(url, timeout=2)
            if answer.status_code == 200:
                return answer
        except (requests.ConnectionError, requests.Timeout):  # listening before the worker is ready
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.fixture
def web(image: Image, volume: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """The image's default command (migrate, then serve) on a free port."""
    port = free_port()
    log = tmp_path / "web.log"
    process = image.start(image.cmd, volume, log, env={**SECRET, "ENERTRACK_PORT": str(port)})
    try:
        yield process, port, log
    finally:
        _stop(process)


def test_default_command_serves_the_app_as_a_non_root_user(image: Image, volume: Path, web: tuple) -> None:
    process, port, log = web
    answer = _wait_http(f"http://127.0.0.1:{port}/enertrack/healthz", process, log)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert requests.get(f"http://127.0.0.1:{port}/enertrack/login", timeout=10).status_code == 200
    assert _uid(process.pid) == image.uid != 0
    # One gunicorn worker with threads (ENERTRACK_WEB_WORKERS=1): the login limits hold as configured.
    assert image.env["ENERTRACK_WEB_WORKERS"] == "1"
    assert len(psutil.Process(process.pid).children()) == 1
    assert (volume / "enertrack.sqlite3").is_file()  # the users database went to the volume


def test_image_health_check_passes_while_serving_and_fails_without(image: Image, volume: Path, web: tuple) -> None:
    process, port, log = web
    assert image.healthcheck[:1] == ["CMD-SHELL"], image.healthcheck  # built with --format docker, or it is dropped
    check = ["sh", "-c", image.healthcheck[1]]
    env = {"ENERTRACK_PORT": str(port)}
    _wait_http(f"http://127.0.0.1:{port}/enertrack/healthz", process, log)
    passed = image.run(check, volume, env)
    assert passed.returncode == 0, passed.stderr
    _stop(process)
    failed = image.run(check, volume, env)
    assert failed.returncode != 0


@pytest.mark.parametrize("extra", [{}, {"ENERTRACK_DATA_DIR": "data"}], ids=["env-example", "older-copy-with-data"])
def test_a_copied_env_example_keeps_the_data_in_the_volume(image: Image, volume: Path, extra: dict) -> None:
    # What `docker run --env-file .env` passes when .env is a copy of .env.example (values as written).
    env = {**{k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}, **SECRET, **extra}
    done = image.run(["enertrack", "db", "upgrade"], volume, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in volume.iterdir()) == ["enertrack.sqlite3"]


def test_ingest_daemon_in_the_image_stores_a_reading_from_the_broker(image: Image, volume: Path,
                                                                     tmp_path: Path) -> None:
    broker = Broker(tmp_path / "mosquitto", users={INGEST_USER: INGEST_PASSWORD, "casa-1": "casa-1-password"})
    broker.start()
    try:
        shutil.copy(broker.pki.ca_cert, volume / "ca.crt")  # the CA file the operator mounts
        env = {**SECRET, **broker.settings_env(), "MQTT_CA_FILE": "/data/ca.crt"}
        for args in (["enertrack", "db", "upgrade"],
                     ["enertrack", "user", "create", "--username", "ana", "--email", "ana@example.com",
                      "--password", "correct horse battery staple"],
                     ["enertrack", "node", "add", "--user", "ana", "--id", "casa-1"]):
            done = image.run(args, volume, env)
            assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        log = tmp_path / "ingest.log"
        daemon = image.start(["enertrack", "ingest"], volume, log, env)
        try:
            deadline = time.monotonic() + 60
            while "connected to" not in log.read_text():
                assert daemon.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            client = broker.client("casa-1")  # the node's own account, as a device connects
            ts = int(time.time()) - 5
            publish_all(client, [("enertrack/casa-1/telemetry", json.dumps({"ts": ts, "v": 231.5, "p": 123.25}))])
            client.disconnect()
            csv = ""
            while "123.25" not in csv:
                assert time.monotonic() < deadline, f"not stored:\n{csv}\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
                csv = image.run(["enertrack", "export-readings", "--node", "casa-1"], volume, env).stdout
            assert "231.5" in csv
        finally:
            assert _stop(daemon) == 0, log.read_text()[-3000:]
    finally:
        broker.stop()


def test_the_build_context_left_out_secrets_and_local_state(image: Image) -> None:
    app = image.root / "app"
    assert (app / "enertrack").is_dir() and (app / "pages").is_dir()  # the checkout the app runs from
    for left_out in (".env", ".venv", "data", "certs", "firmware", ".git"):
        assert not (app / left_out).exists(), left_out
    assert not list(app.rglob("*.key"))
    # The code belongs to root: the app's user can write only /data and /tmp.
    assert (app / "enertrack").stat().st_uid == 0
