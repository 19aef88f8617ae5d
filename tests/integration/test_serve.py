"""`enertrack serve`: one gunicorn worker with threads by default; more workers only with a shared limit store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from click.testing import CliRunner

from enertrack.cli.main import main
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ENERTRACK_", "RATELIMIT_", "DATABASE_URL",
                                                                       "MYSQL_", "INFLUX_"))}
    return {**keep, "ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), **extra}


@pytest.fixture
def gunicorn_options(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The gunicorn configuration `serve` would run with, captured instead of serving."""
    seen: list[Any] = []
    monkeypatch.setattr("enertrack.web.server._Gunicorn.run", lambda self: seen.append(self.cfg))
    return seen


@pytest.mark.parametrize(
    ("env", "args", "workers", "threads"),
    [
        ({}, (), 1, 8),
        ({"ENERTRACK_WEB_THREADS": "16"}, (), 1, 16),
        ({"ENERTRACK_WEB_WORKERS": "3", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, (), 3, 8),
        ({"ENERTRACK_WEB_WORKERS": "3", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}, ("--workers", "2"), 2, 8),
        ({"ENERTRACK_WEB_WORKERS": "4"}, ("--workers", "1", "--threads", "2"), 1, 2),  # --workers wins over the env
    ],
)
def test_workers_and_threads_come_from_the_environment_unless_given(
    tmp_path: Path, gunicorn_options: list[Any], env: dict[str, str], args: tuple[str, ...], workers: int,
    threads: int,
) -> None:
    result = CliRunner().invoke(main, ["serve", *args], env=_env(tmp_path, **env))
    assert result.exit_code == 0, result.output
    [cfg] = gunicorn_options
    assert (cfg.workers, cfg.threads, cfg.worker_class_str) == (workers, threads, "gthread")


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"ENERTRACK_WEB_WORKERS": "2"}, ()),
        ({}, ("--workers", "2")),
        ({"ENERTRACK_WEB_WORKERS": "4", "RATELIMIT_STORAGE_URI": "memory://"}, ()),
    ],
)
def test_several_workers_with_memory_counters_refuse_to_start_in_one_line(
    tmp_path: Path, gunicorn_options: list[Any], env: dict[str, str], args: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(main, ["serve", *args], env=_env(tmp_path, **env))
    assert (result.exit_code, gunicorn_options) == (2, [])
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and "web workers need a shared rate-limit store" in line
    assert "RATELIMIT_STORAGE_URI=redis://" in line


@pytest.mark.slow
def test_default_serve_runs_exactly_one_worker_process(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path)
    subprocess.run([sys.executable, "-m", "enertrack.cli.main", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "enertrack.cli.main", "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-access-log"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/enertrack/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        workers = psutil.Process(server.pid).children()
        assert len(workers) == 1, log.read_text()
        assert "Using worker: gthread" in log.read_text()
    finally:
        server.terminate()
        server.wait(30)


def test_the_refusal_is_also_what_a_second_setting_source_gets(tmp_path: Path) -> None:
    # .env (the systemd EnvironmentFile's twin) asks for two workers: the same one-line refusal.
    (tmp_path / ".env").write_text("ENERTRACK_WEB_WORKERS=2\n")
    env = _env(tmp_path)
    done = subprocess.run([sys.executable, "-m", "enertrack.cli.main", "serve"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "2 web workers need a shared rate-limit store" in done.stderr
