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
from typing import Any

import pytest
import requests

from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, publish_all
from tests.mqtt_broker import Broker as MqttBroker
from tests.services import free_port

pytestmark = pytest.mark.slow
UPDATE = "/enertrack/_dash-update-component"


def start_demo(tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = dict(os.environ)  # the demo runs in tmp_path: its data goes to tmp_path/data, the default --data-dir
    for name in ("DOMINIO", "PUERTO_MQTTS", "DATABASE_URL", "MYSQL_USER", "MYSQL_DB", "INFLUX_URL",
                 "ENERTRACK_DATA_DIR", "ENERTRACK_TSDB_PATH"):
        env.pop(name, None)
    env.update(extra_env or {})
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "enertrack.cli.main", "demo", "--port", str(port), *args],
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


def callback(web: requests.Session, port: int, output: str, prop: str, inputs: list[tuple[str, str, Any]],
             more: tuple[tuple[str, str], ...] = ()) -> Any:
    """One server callback's answer for output.prop (`more`: its other outputs), called as the browser does."""
    outs = [(output, prop), *more]
    key = f"{output}.{prop}" if not more else ".." + "...".join(f"{o}.{p}" for o, p in outs) + ".."
    body = {"output": key, "outputs": [{"id": o, "property": p} for o, p in outs] if more
            else {"id": output, "property": prop},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs], "state": [],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}
    answer = web.post(f"http://127.0.0.1:{port}{UPDATE}", json=body, timeout=120)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["response"][output][prop]


def ids_in(tree: Any) -> list[str]:
    """Every string id in a component tree."""
    if isinstance(tree, list):
        return [i for item in tree for i in ids_in(item)]
    if isinstance(tree, dict):
        props = tree.get("props", {})
        own = [props["id"]] if isinstance(props.get("id"), str) else []
        return own + ids_in(props.get("children"))
    return []


def readings(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "data" / "timeseries.sqlite3", timeout=10) as conn:
        return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])


HISTORY = 5 * 90 * 8640  # the demo's backfill: 5 nodes x 90 days x one reading per 10 s


def wait_live(tmp_path: Path, timeout: float = 90) -> bool:
    """True once the demo's store holds a live reading, written after its history."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (tmp_path / "data" / "timeseries.sqlite3").exists() and readings(tmp_path) > HISTORY:
            return True
        time.sleep(1)
    return False


def test_demo_serves_within_a_minute_and_goes_live(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    started = time.monotonic()
    process, port = start_demo(tmp_path)
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert time.monotonic() - started < 60
    assert any(f"http://localhost:{port}/enertrack/" in line for line in lines)
    web = demo_login(port)
    # History first, then live readings through the broker and the daemon.
    assert wait_live(tmp_path), "no live reading arrived after the history"
    # The panel's insights and a node's power-quality report, on the simulated nodes' history.
    cards = callback(web, port, "panel-insights", "children", [("panel-site", "value", "all")])
    assert {"insight-base_load", "insight-forecast", "insight-quality"} <= set(ids_in(cards)), str(cards)[:2000]
    assert "EUR" in str(cards)  # the demo site's 2.0TD tariff prices the forecast
    report = callback(web, port, "node-quality-body", "children",
                      [("node-below", "data", "demo-01"), ("node-quality-week", "value", "1")],
                      more=(("node-quality-download", "href"),))
    assert "Dentro de los límites" in str(report), str(report)[:2000]  # the simulator keeps within +-3 %
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=40) == 0


def test_demo_without_a_broker_writes_live_readings_directly(tmp_path: Path,
                                                            stopper: list[subprocess.Popen[str]]) -> None:
    # A production .env (MariaDB, InfluxDB) is left alone: nothing listens at these addresses,
    # so the demo only starts if it keeps to its own SQLite files.
    production = {"MYSQL_USER": "enertrack", "MYSQL_DB": "enertrack", "MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "1",
                  "INFLUX_URL": "http://127.0.0.1:1", "INFLUX_TOKEN": "t", "INFLUX_ORG": "o", "INFLUX_BUCKET": "b",
                  "ENERTRACK_DATA_DIR": str(tmp_path / "prod"), "ENERTRACK_TSDB_PATH": str(tmp_path / "prod" / "ts.db")}
    process, port = start_demo(tmp_path, "--broker", "none", extra_env=production)
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any("Broker: none" in line for line in lines)
    assert any("does not touch the configured ENERTRACK_DATA_DIR, ENERTRACK_TSDB_PATH, MYSQL_*, INFLUX_*" in line
               for line in lines)
    assert not (tmp_path / "prod").exists()  # a production data directory stays untouched
    demo_login(port)
    assert wait_live(tmp_path), "no live reading arrived after the history"


def test_demo_children_stop_when_the_demo_is_killed(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    import psutil

    process, _port = start_demo(tmp_path, "--broker", "none")
    stopper.append(process)
    wait_banner(process, tmp_path / "demo.log")
    children = psutil.Process(process.pid).children()
    assert len(children) >= 2  # web and simulator
    process.kill()  # no chance to clean up
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], [p.cmdline() for p in alive]


DEMO_ACCOUNT = ("enertrack-demo", "demo-broker-pw")


class ProductionDaemon:
    """Stands in for a production ingest daemon: the default client id, a persistent session, QoS 1."""

    def __init__(self, broker: MqttBroker) -> None:
        self.kicked: list[str] = []  # disconnections it did not ask for (a session taken over)
        self.topics: list[str] = []
        self.client = broker.client(INGEST_USER, client_id="enertrack-ingest", clean=False)
        self.client.on_disconnect = lambda _c, _u, _f, reason, _p: self.kicked.append(str(reason))
        self.client.on_message = lambda _c, _u, msg: self.topics.append(msg.topic)
        self.client.subscribe([("enertrack/+/telemetry", 1), ("enertrack/+/status", 1)])

    def close(self) -> None:
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def production(tmp_path: Path) -> Iterator[tuple[MqttBroker, ProductionDaemon]]:
    """A broker configured as shipped (TLS, passwords, deploy/acl with its demo account enabled), in use."""
    broker = MqttBroker(tmp_path / "broker", users={INGEST_USER: INGEST_PASSWORD, "prod-01": "prod-01-pw",
                                                    DEMO_ACCOUNT[0]: DEMO_ACCOUNT[1]})
    acl = broker.acl_file.read_text()
    assert "#user enertrack-demo\n#topic readwrite enertrack-demo/#" in acl  # the example deploy/acl ships
    broker.acl_file.write_text(acl.replace("#user enertrack-demo", "user enertrack-demo")
                               .replace("#topic readwrite enertrack-demo/#", "topic readwrite enertrack-demo/#"))
    with broker:
        daemon = ProductionDaemon(broker)
        yield broker, daemon
        daemon.close()


def rejected(tmp_path: Path) -> list[tuple[str, str]]:
    """The demo's dead letters: (topic, reason)."""
    with sqlite3.connect(tmp_path / "data" / "enertrack.sqlite3", timeout=10) as conn:
        return list(conn.execute("SELECT topic, reason FROM rejected_messages"))


def test_demo_ignores_a_configured_broker_unless_asked(tmp_path: Path, stopper: list[subprocess.Popen[str]],
                                                      production: tuple[MqttBroker, ProductionDaemon]) -> None:
    broker, daemon = production
    process, _port = start_demo(tmp_path, extra_env=broker.settings_env())
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any("does not use the configured broker" in line and "--broker configured" in line for line in lines)
    assert not any("Broker: the configured broker" in line for line in lines)
    # A live reading has gone node -> broker -> ingest -> store: both ends are connected to the broker
    # the demo chose, and that is not the configured one.
    assert wait_live(tmp_path), "no live reading arrived through the demo's own broker"
    log = broker.log_file.read_text()
    assert "enertrack-ingest-demo" not in log and "demo-01" not in log, log[-2000:]
    assert daemon.kicked == []


def test_demo_on_the_configured_broker_keeps_to_its_own_session_and_topics(
    tmp_path: Path, stopper: list[subprocess.Popen[str]], production: tuple[MqttBroker, ProductionDaemon]
) -> None:
    broker, daemon = production
    env = broker.settings_env(DEMO_ACCOUNT[0])
    process, _port = start_demo(tmp_path, "--broker", "configured", extra_env=env)
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any(f"Broker: the configured broker 127.0.0.1:{broker.port}, topics enertrack-demo/" in line
               for line in lines)
    # Live readings go through the production broker, on the demo's topics...
    assert wait_live(tmp_path), "no live reading arrived through the configured broker"
    # ...while a production node's reading reaches the production daemon only: the demo neither takes
    # the daemon's session nor receives (and rejects, and acknowledges) the node's message.
    node = broker.client("prod-01", client_id="prod-01")
    publish_all(node, [("enertrack/prod-01/telemetry", '{"ts": 1700000000, "v": 230.1, "e": 1.0}')])
    node.disconnect()
    node.loop_stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "enertrack/prod-01/telemetry" not in daemon.topics:
        time.sleep(0.2)
    assert daemon.topics == ["enertrack/prod-01/telemetry"]  # nothing of the demo's
    assert daemon.kicked == []
    # Then a message the demo's ingest does receive and dead-letters (an unregistered node on its own
    # topics). The broker hands a subscriber its messages in order: once this one is recorded, the
    # production node's would have been too, had the demo received it.
    probe = broker.client(DEMO_ACCOUNT[0], client_id="demo-probe")
    publish_all(probe, [("enertrack-demo/probe/telemetry", '{"ts": 1700000000, "v": 230.1, "e": 1.0}')])
    probe.disconnect()
    probe.loop_stop()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not rejected(tmp_path):
        time.sleep(0.2)
    assert rejected(tmp_path) == [("enertrack-demo/probe/telemetry", "unknown_node")]
    assert "as enertrack-ingest-demo-" in broker.log_file.read_text()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=40) == 0


def test_demo_turns_an_injected_dip_into_a_notification(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    """Simulator fault -> broker -> ingest -> `alerts run` -> the bell of the demo user, within seconds."""
    process, port = start_demo(tmp_path)
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any("enertrack simulate-fault" in line for line in lines)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'enertrack.sqlite3'}",
           "ENERTRACK_ENV": "development"}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "enertrack.cli.main", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = cli("alert", "list", "--user", "demo")
    assert "*\tvoltage-low\t< 207 V\t60\tactive" in listed and "*\toffline" in listed
    assert wait_live(tmp_path), "no live reading arrived after the history"
    cli("alert", "add", "--user", "demo", "--node", "demo-03", "--rule", "voltage-low", "--threshold", "207",
        "--for", "0s")
    cli("simulate-fault", "--faults", str(tmp_path / "data" / "simulator-faults.jsonl"), "--node", "demo-03",
        "--kind", "dip", "--for", "5m")
    web = demo_login(port)
    from tests.dash_client import parse_outputs

    deps = web.get(f"http://127.0.0.1:{port}/enertrack/_dash-dependencies", timeout=10).json()
    key = next(d["output"] for d in deps if "nav-bell-count.children" in d["output"])
    bell = {"output": key, "outputs": parse_outputs(key),
            "inputs": [{"id": "nav-bell-tick", "property": "n_intervals", "value": 1}],
            "state": [{"id": "nav-bell-seen", "property": "data", "value": None}],
            "changedPropIds": ["nav-bell-tick.n_intervals"]}
    deadline = time.monotonic() + 60
    count = "0"
    while time.monotonic() < deadline and count == "0":
        answer = web.post(f"http://127.0.0.1:{port}{UPDATE}", json=bell, timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        count = answer.json()["response"]["nav-bell-count"]["children"]
        time.sleep(1)
    assert count != "0", "no notification within 60 s of the dip"
    with sqlite3.connect(tmp_path / "data" / "enertrack.sqlite3", timeout=10) as conn:
        fired = conn.execute("SELECT node_id, kind, state, value FROM alert_events WHERE node_id = 'demo-03'").fetchall()
    assert fired[0][:3] == ("demo-03", "voltage-low", "firing") and fired[0][3] < 207


def test_demo_leaves_broker_provisioning_off(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    # A production .env asking for dynsec (here without its admin account, which `serve` refuses)
    # must not reach the demo's web app: its nodes get no broker accounts anywhere.
    process, port = start_demo(tmp_path, extra_env={"ENERTRACK_BROKER_PROVISIONING": "dynsec"})
    stopper.append(process)
    lines = wait_banner(process, tmp_path / "demo.log")
    assert any("does not provision broker accounts" in line for line in lines)
    demo_login(port)
