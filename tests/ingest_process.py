"""Run the ingest daemon as a real process against a test broker, a users database and a SQLite store."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from enertrack.db import make_engine, make_session_factory, transaction
from enertrack.migrate import upgrade
from enertrack.models import Node, User
from tests.mqtt_broker import ROOT, Broker, environ_without_mqtt


def make_users_db(url: str, node_ids: Iterable[str], interval_s: int = 10) -> None:
    """Migrate a users database and register node_ids for one user."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            owner = User(username="owner", email="owner@example.org", password_hash="x")
            session.add(owner)
            session.add_all(Node(node_id=n, owner=owner, interval_s=interval_s) for n in node_ids)
    finally:
        engine.dispose()


def add_node(url: str, node_id: str) -> None:
    """Register one more node for the first user."""
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            owner = session.query(User).first()
            session.add(Node(node_id=node_id, owner=owner))
    finally:
        engine.dispose()


class IngestProcess:
    """`python ingest.py` with its output in a log file."""

    def __init__(self, workdir: Path, broker: Broker, *, extra_env: dict[str, str] | None = None,
                 command: tuple[str, ...] = ("ingest.py",)) -> None:
        self.workdir = workdir
        self.command = command
        self.users_url = f"sqlite:///{workdir / 'users.sqlite3'}"
        self.tsdb = workdir / "timeseries.sqlite3"
        self.log_path = workdir / "ingest.log"
        self.env = {
            **environ_without_mqtt(),
            **broker.settings_env(),
            "DATABASE_URL": self.users_url,
            "ENERTRACK_TSDB_PATH": str(self.tsdb),
            "ENERTRACK_DATA_DIR": str(workdir / "data"),
            "ENERTRACK_STORE": "sqlite",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self, *, wait: bool = True) -> IngestProcess:
        """Start the daemon and (unless wait=False) wait until it has connected."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, *self.command], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for(r"connected to .* \(session present")
        return self

    def log(self) -> str:
        """Everything this run has logged so far."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._log_offset)
            return handle.read().decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 20.0, count: int = 1) -> re.Match[str]:
        """Wait until the log of this run matches pattern count times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = list(re.finditer(pattern, self.log()))
            if len(matches) >= count:
                return matches[count - 1]
            if self.process and self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"ingest log never matched {pattern!r} x{count}:\n{self.log()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send sig and return the exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL: no chance to commit or acknowledge anything."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stored(self, node_ids: Iterable[str]) -> list[tuple[str, int]]:
        """(node_id, ts) of every stored reading of node_ids, read through the store's own API."""
        from enertrack.store.sqlite import SQLiteStore

        with SQLiteStore(self.tsdb) as store:
            return [(r.node_id, r.ts) for n in node_ids for r in store.readings(n)]

    def wait_stored(self, node_ids: Iterable[str], count: int, timeout: float = 30.0) -> list[tuple[str, int]]:
        """Wait until at least count readings of node_ids are stored; return them all."""
        nodes = list(node_ids)
        deadline = time.monotonic() + timeout
        rows = self.stored(nodes)
        while len(rows) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            rows = self.stored(nodes)
        return rows
