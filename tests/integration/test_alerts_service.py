"""`enertrack alerts run` as a real process: readings through a real broker and the ingest daemon,
e-mail to a real SMTP server, webhooks to a real HTTP receiver, and a SIGKILL mid-episode."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from enertrack.db import make_engine, make_session_factory
from enertrack.models import AlertEvent, Delivery
from tests.alert_receivers import Hooks, Mailbox, http_receiver, smtp_server
from tests.ingest_process import IngestProcess, make_users_db
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, ROOT, Broker, broker_fixture, publish_all

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    yield from broker_fixture(tmp_path_factory, users={INGEST_USER: INGEST_PASSWORD, "n1": "n1-password-x"})


class Service:
    """The enertrack command in a child process with the ingest daemon's databases."""

    def __init__(self, ingest: IngestProcess, box: Mailbox, hooks: Hooks) -> None:
        self.env = {**ingest.env, "ENERTRACK_ALERTS_POLL_S": "1", "ENERTRACK_SMTP_URL": box.url,
                    "ENERTRACK_SMTP_FROM": "EnerTrack <alerts@example.org>",
                    "ENERTRACK_PUBLIC_URL": "https://energy.example.org/enertrack/",
                    "ENERTRACK_WEBHOOK_ALLOW_PRIVATE": "true", "ENERTRACK_WEBHOOK_BACKOFF_S": "0.1"}
        self.log_path = ingest.workdir / "alerts.log"
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "enertrack.cli.main", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "enertrack.cli.main", "alerts", "run"], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


def publish(broker: Broker, volts: list[float]) -> None:
    """One reading a second, stamped with the second it is sent in (the readings' own timestamps)."""
    client = broker.client("n1")
    try:
        for v in volts:
            publish_all(client, [("enertrack/n1/telemetry", json.dumps({"ts": int(time.time()), "v": v}))])
            time.sleep(1.0)
    finally:
        client.disconnect()


def events(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            return [e.state for e in db.scalars(select(AlertEvent).order_by(AlertEvent.id))]
    finally:
        engine.dispose()


def wait_sent(url: str, count: int, timeout: float = 20.0) -> None:
    """Until count deliveries are recorded as sent (a kill before that may send one twice: at least once)."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with make_session_factory(engine)() as db:
                if len(db.scalars(select(Delivery).where(Delivery.status == "sent")).all()) >= count:
                    return
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"fewer than {count} deliveries recorded as sent")


def test_one_episode_one_firing_one_resolved_across_a_kill(broker: Broker, tmp_path: Path) -> None:
    ingest = IngestProcess(tmp_path, broker, extra_env={"MQTT_CLIENT_ID": "ingest-alerts"})
    make_users_db(ingest.users_url, ["n1"], interval_s=1)
    with smtp_server() as box, http_receiver() as hooks:
        service = Service(ingest, box, hooks)
        ingest.start()
        try:
            assert "rule 1 added: voltage-low < 207 V for 4 s on n1" in service.cli(
                "alert", "add", "--user", "owner", "--node", "n1", "--rule", "voltage-low", "--threshold", "207",
                "--for", "4s")
            service.cli("notify", "set", "--user", "owner", "--email", "owner@example.org",
                        "--webhook", hooks.url, "--webhook-secret", "a-secret-of-20-chars")
            assert service.cli("alert", "list", "--user", "owner") == "1\tn1\tvoltage-low\t< 207 V\t4\tactive\n"
            service.start()
            publish(broker, [230, 230] + [195] * 7)
            mail = box.wait(1)[0]
            assert "activa" in mail["Subject"] and hooks.wait(1)
            wait_sent(ingest.users_url, 2)
            service.kill()  # mid-episode: firing sent, not yet resolved
            publish(broker, [195, 195] + [231] * 7)  # it recovers while the service is down
            ingest.wait_stored(["n1"], 18)
            service.start()
            box.wait(2)
            hooks.wait(2)
            time.sleep(3)  # three more cycles: nothing may be repeated
        finally:
            service.kill()
            ingest.kill()
        assert events(ingest.users_url) == ["firing", "resolved"]
        assert len(box.messages) == 2 and "resuelta" in box.messages[1]["Subject"]
        assert [b["events"][0]["state"] for b in hooks.bodies()] == ["firing", "resolved"]
        assert len(hooks.received) == 2
