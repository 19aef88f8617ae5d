"""`enertrack demo` (what `make run` starts): web + ingest + simulator on embedded defaults.

No root and no external service: SQLite for everything (a configured MariaDB or InfluxDB is
left alone, see embedded_stores), a demo account, five simulated
nodes with 90 days of history, and live readings through a broker when one can be had.
Broker (`--broker auto`, the default), in order: a private `mosquitto` started on a free
loopback port (preferred to a shared one: fixed client ids such as a node's must not collide
with other clients); one already running on 127.0.0.1:1883 that accepts anonymous clients;
otherwise none, and the simulator writes live readings straight into the store. The broker
configured with DOMINIO is used only when asked for (`--broker configured`): it may be a
production broker. Whatever the broker, the demo's ingest has its own client id (one per data
directory) and the demo's topics are `<MQTT_TOPIC_PREFIX>-demo/...`, so it never takes over a
production daemon's session nor consumes its nodes' messages.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from enertrack.config import TOPIC_PREFIX_MAX, Settings
from enertrack.ports import free_port, port_open

PR_SET_PDEATHSIG = 1  # prctl option: signal a child when its parent dies
DEMO_USER = "demo"
DEMO_PASSWORD = "enertrack-demo"  # printed for all to see (README); no password policy applies to it
DEMO_EMAIL = "demo@example.com"
DEMO_NODES = 5
DEMO_INTERVAL_S = 10
DEMO_HISTORY_DAYS = 90
# max_packet_size rather than message_size_limit, which Mosquitto 2 calls deprecated at every
# start (the daemon refuses payloads over 4 KiB itself); deploy/mosquitto.conf keeps both.
PRIVATE_BROKER_CONF = """# EnerTrack demo broker: loopback only, anonymous, persistent.
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {data}/
max_inflight_messages 1000
max_queued_messages 100000
max_packet_size 8192
log_dest stderr
log_type error
log_type warning
"""


def embedded_stores(settings: Settings, data_dir: Path) -> tuple[Settings, dict[str, str], list[str]]:
    """The demo's settings and its children's env on the embedded stores in data_dir, and what they leave alone.

    A .env written for production (MariaDB, InfluxDB, or SQLite files in a data directory of its
    own) must not receive a demo account and 90 days of simulated history: the demo always keeps
    its data in SQLite files in its own directory (`enertrack demo --data-dir`, default `data`).
    """
    tsdb = data_dir / "timeseries.sqlite3"
    ignored = [name for name, used in (
        ("ENERTRACK_DATA_DIR", settings.data_dir.resolve() != data_dir),
        ("ENERTRACK_TSDB_PATH", settings.tsdb_path is not None and settings.tsdb_file != tsdb),
        ("DATABASE_URL", settings.database_url),
        ("MYSQL_*", settings.mysql_user or settings.mysql_db),
        ("INFLUX_*", settings.store_kind == "influx"),
    ) if used]
    url = f"sqlite:///{data_dir / 'enertrack.sqlite3'}"
    env = {"ENERTRACK_DATA_DIR": str(data_dir), "ENERTRACK_TSDB_PATH": str(tsdb), "DATABASE_URL": url,
           "ENERTRACK_STORE": "sqlite"}
    update = {"data_dir": data_dir, "tsdb_path": tsdb, "database_url": url, "store": "sqlite"}
    return settings.model_copy(update=update), env, ignored


class DemoError(Exception):
    """The demo cannot start as asked: the message says why and what to do."""


@dataclass
class Broker:
    """How the demo's simulator and ingest daemon reach MQTT (env overrides), or None."""

    description: str
    available: bool = True
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def _anonymous_broker_accepts(host: str, port: int) -> bool:
    """True when a plain MQTT broker there accepts an anonymous client."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"enertrack-demo-probe-{os.getpid()}")
    try:
        client.connect(host, port, keepalive=10)
        deadline = time.monotonic() + 3
        while not client.is_connected() and time.monotonic() < deadline:
            client.loop(timeout=0.2)
        return client.is_connected()
    except OSError:
        return False
    finally:
        client.disconnect()


def demo_topic_prefix(prefix: str) -> str:
    """The demo's topic prefix: `<prefix>-demo`, outside `<prefix>/#` whatever the prefix is."""
    demo = f"{prefix.rstrip('/')}-demo"
    return demo if len(demo) <= TOPIC_PREFIX_MAX else "enertrack-demo"


def demo_client_id(data_dir: Path) -> str:
    """The demo ingest's MQTT client id: one persistent session per demo installation."""
    return f"enertrack-ingest-demo-{zlib.crc32(str(data_dir).encode()):08x}"


def demo_mqtt_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """What keeps the demo apart from any daemon on the same broker: its own client id and topics."""
    return {"MQTT_CLIENT_ID": demo_client_id(data_dir),
            "MQTT_TOPIC_PREFIX": demo_topic_prefix(settings.mqtt_topic_prefix)}


def choose_broker(settings: Settings, data_dir: Path, choice: str = "auto") -> Broker:
    """The broker for `--broker auto|configured` (see the module docstring); DemoError if unusable."""
    demo = demo_mqtt_env(settings, data_dir)
    topics = f"topics {demo['MQTT_TOPIC_PREFIX']}/..."
    if choice == "configured":
        where = f"{settings.mqtt_host}:{settings.mqtt_port}"
        if not port_open(settings.mqtt_host, settings.mqtt_port):
            raise DemoError(f"the configured broker {where} (DOMINIO, PUERTO_MQTTS) is not reachable; "
                            "start it, or run the demo without --broker configured")
        # A broker drops what its ACL forbids without telling an MQTT 3.1.1 client: say it up front.
        click.echo(f"note: the demo publishes and reads {demo['MQTT_TOPIC_PREFIX']}/# on {where} as "
                   f"{settings.mqtt_user or 'an anonymous client'} (MQTT_USR): the broker's ACL must allow both, "
                   "or no live reading arrives (deploy/acl shows a demo account)", err=True)
        return Broker(f"the configured broker {where}, {topics}", env=demo)
    plain = {"DOMINIO": "127.0.0.1", "MQTT_TLS": "false", "MQTT_USR": "", "MQTT_PASS": "", **demo}
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
    if binary:
        port = free_port()
        folder = data_dir / "mosquitto"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "mosquitto.conf"
        conf.write_text(PRIVATE_BROKER_CONF.format(port=port, data=folder.resolve()))
        process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,  # noqa: S603
                                   preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                click.echo("warning: the private mosquitto did not start", err=True)
                break
            time.sleep(0.1)
        else:
            return Broker(f"a private mosquitto on 127.0.0.1:{port}, {topics}",
                          env={**plain, "PUERTO_MQTTS": str(port)}, process=process)
        process.kill()
    if port_open("127.0.0.1", 1883) and _anonymous_broker_accepts("127.0.0.1", 1883):
        return Broker(f"the local broker on 127.0.0.1:1883, {topics}", env={**plain, "PUERTO_MQTTS": "1883"})
    return Broker("none found: the simulator writes live readings straight into the store", available=False)


def ensure_demo_user(settings: Settings) -> None:
    """The demo account, with the password the demo prints.

    Created directly, not through the sign-up rules: its password is public by design (README), so
    the password policy that guards real accounts has nothing to protect here. A data directory
    from an earlier demo keeps its account, with the printed password set again if it differs.
    """
    from werkzeug.security import check_password_hash

    from enertrack.cli.common import sessions
    from enertrack.models import User
    from enertrack.web.services import accounts

    with sessions(settings).begin() as db:
        user = accounts.find_user(db, DEMO_USER)
        if user is None:
            user = User(username=DEMO_USER, email=DEMO_EMAIL, password_hash=accounts.hash_password(DEMO_PASSWORD),
                        timezone=settings.default_timezone, language="es")
            db.add(user)
            db.flush()
            price_demo_site(db, user.id)
        elif not check_password_hash(user.password_hash, DEMO_PASSWORD):
            user.password_hash = accounts.hash_password(DEMO_PASSWORD)


# A Spanish 2.0TD tariff of 2026 (EUR; energy per kWh, power terms per kW and day), so the demo
# shows costs per band and a bill forecast. Illustrative prices, not a retailer's offer.
DEMO_TARIFF = {"valid_from": "2020-01-01", "kind": "es-2.0td", "price_punta": "0.2800", "price_llano": "0.1900",
               "price_valle": "0.1200", "power_price_kw_day": "0.0860", "power_price_valle_kw_day": "0.0027",
               "fixed_per_day": "0.0270"}
DEMO_CONTRACTED_KW = 4.6


def price_demo_site(db: Any, user_id: int) -> None:
    """Give the demo user's site a contracted power and DEMO_TARIFF."""
    from enertrack.web.services import sites, tariffs

    site = sites.ensure_site(db, user_id)
    site.contracted_kw = site.contracted_valle_kw = DEMO_CONTRACTED_KW
    tariffs.save_tariff(db, user_id, site.id, DEMO_TARIFF)


DEMO_FAULTS = "simulator-faults.jsonl"
# What the demo shows on its own: a voltage dip and an outage soon after it starts (seconds from start).
DEMO_DIP = ("demo-01", 120, 150)  # node, starts after, lasts
DEMO_OUTAGE = ("demo-02", 300, 480)  # silent 8 min: offline from 30 s after, fires 3 min later
DEMO_RULES = (("voltage-low", "1m", "207", None, None), ("voltage-high", "1m", "253", None, None),
              ("frequency", "1m", None, "49.5", "50.5"), ("offline", "3m", None, None, None))


def ensure_demo_alerts(settings: Settings, now: int) -> None:
    """EN 50160's rules and an offline rule on all the demo user's nodes, once."""
    from enertrack.alerts import manage
    from enertrack.alerts.rules import make_spec
    from enertrack.cli.common import sessions
    from enertrack.web.services import accounts

    with sessions(settings).begin() as db:
        user = accounts.find_user(db, DEMO_USER)
        if user is None or manage.list_rules(db, user.id):
            return
        for kind, duration, threshold, low, high in DEMO_RULES:
            manage.add_rule(db, user.id, None, make_spec(kind, duration, threshold, low, high), now)


def schedule_demo_faults(path: Path, now: int) -> None:
    """The dip and the outage the demo injects into its simulated nodes."""
    from enertrack.simulation.faults import FaultFile, fault

    faults = FaultFile(path)
    for kind, (node, after, lasts) in (("dip", DEMO_DIP), ("outage", DEMO_OUTAGE)):
        faults.add(fault(kind, node, now + after, lasts))


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the demo process dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the demo's own shutdown still stops its children


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "enertrack.cli.main", *args], env=env,  # noqa: S603
                            preexec_fn=_die_with_parent)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(processes: list[subprocess.Popen[Any]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()


def _prepare(settings: Settings, data_dir: Path) -> tuple[Settings, dict[str, str]]:
    """The demo's own SQLite stores, migrated, with the demo account and a generated secret."""
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings, stores_env, ignored = embedded_stores(settings, data_dir)
    if ignored:
        click.echo(f"note: the demo keeps its data in SQLite under {data_dir}; it does not touch the configured"
                   f" {', '.join(ignored)} (they may hold production data)", err=True)
    # The demo's nodes never get broker accounts: its private broker takes them as they come, and a
    # configured dynamic-security admin belongs to production (run_demo sets it off for its children).
    if settings.broker_provisioning != "off":
        click.echo("note: the demo does not provision broker accounts (ENERTRACK_BROKER_PROVISIONING is off "
                   "for it): its nodes' page says the broker's operator issues credentials", err=True)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    ensure_demo_user(settings)
    started = int(time.time())
    ensure_demo_alerts(settings, started)
    schedule_demo_faults(data_dir / DEMO_FAULTS, started)
    settings.secret_key_value()  # generated once, kept in the data directory
    return settings, stores_env


def _start(settings: Settings, env: dict[str, str], port: int, broker: Broker) -> list[subprocess.Popen[Any]]:
    """The web app first, then the ingest daemon (with a broker), the simulator and the alert service."""
    processes: list[subprocess.Popen[Any]] = [broker.process] if broker.process else []
    # The demo's password is printed for all to see: listen on this machine only, unless told otherwise.
    host = settings.host if "host" in settings.model_fields_set else "127.0.0.1"
    processes.append(_spawn(["serve", "--host", host, "--port", str(port), "--workers", "1", "--no-access-log"], env))
    simulate = ["simulate", "--register-user", DEMO_USER, "--nodes", str(DEMO_NODES),
                "--interval", str(DEMO_INTERVAL_S), "--backfill", str(DEMO_HISTORY_DAYS),
                "--faults", str(settings.data_dir / DEMO_FAULTS)]
    if broker.available:
        processes.append(_spawn(["ingest"], env))
    else:
        simulate.append("--no-broker")
    processes.append(_spawn(simulate, env))
    processes.append(_spawn(["alerts", "run"], {**env, "ENERTRACK_ALERTS_POLL_S": "5"}))
    return processes


def _supervise(processes: list[subprocess.Popen[Any]]) -> int:
    """Until Ctrl-C (0) or until one of the processes exits (1); then stop them all."""
    stopping = False

    def _on_signal(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None:
                click.echo(f"error: a demo process exited ({' '.join(map(str, process.args[3:]))}, "
                           f"code {process.returncode}); stopping the demo", err=True)
                stopping, code = True, 1
                break
        time.sleep(0.5)
    _stop(processes)
    return code


def run_demo(settings: Settings, *, port: int, data_dir: Path = Path("data"), broker_choice: str = "auto",
             broker_configured: bool = False) -> int:
    """Start everything, print how to log in, supervise until Ctrl-C; returns the exit code.

    data_dir is `--data-dir`; broker_choice is `--broker` (auto, configured or none);
    broker_configured says DOMINIO is set.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if port_open("127.0.0.1", port):
        click.echo(f"error: port {port} is already in use: stop what uses it, or run with ENERTRACK_PORT=<other>",
                   err=True)
        return 2
    settings, stores_env = _prepare(settings, data_dir)
    env = {**os.environ, "ENERTRACK_ENV": "development", "ENERTRACK_PORT": str(port), "PYTHONUNBUFFERED": "1",
           **stores_env, "ENERTRACK_BROKER_PROVISIONING": "off"}
    if broker_choice == "auto" and broker_configured:
        click.echo(f"note: the demo does not use the configured broker {settings.mqtt_host}:{settings.mqtt_port}"
                   " (DOMINIO): it may be a production broker; to use it anyway, with the demo's own client id"
                   " and topics, run `enertrack demo --broker configured`", err=True)
    try:
        broker = (Broker("none (--broker none): the simulator writes live readings straight into the store",
                         available=False) if broker_choice == "none"
                  else choose_broker(settings, data_dir, broker_choice))
    except DemoError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    env.update(broker.env)
    processes = _start(settings, env, port, broker)
    url = f"http://localhost:{port}/enertrack/"
    web = processes[1 if broker.process else 0]
    if not _wait_healthy(url + "healthz", web):
        click.echo("error: the web app did not start; see the messages above", err=True)
        _stop(processes)
        return 1
    click.echo(
        "\n"
        f"  EnerTrack is running: {url}\n"
        f"  Demo login: user '{DEMO_USER}', password '{DEMO_PASSWORD}'\n"
        f"  Broker: {broker.description}\n"
        f"  Data: {data_dir} (90 days of history are being written for {DEMO_NODES} demo nodes)\n"
        f"  Alerts: a voltage dip on {DEMO_DIP[0]} in {DEMO_DIP[1] // 60} min and an outage of {DEMO_OUTAGE[0]} in"
        f" {DEMO_OUTAGE[1] // 60} min (the bell shows them); inject more with\n"
        f"    enertrack simulate-fault --faults {data_dir / DEMO_FAULTS} --node demo-03 --kind dip --for 2m\n"
        "  Insights on the panel, power quality on each node's page, bill forecast under Analysis.\n"
        "  Stop with Ctrl-C.\n"
    )
    return _supervise(processes)


@click.command("demo")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="[default: ENERTRACK_PORT or 8006].")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data"), show_default=True,
              help="Where the demo keeps its SQLite files and broker; never ENERTRACK_DATA_DIR, ENERTRACK_TSDB_PATH "
                   "or a configured MariaDB/InfluxDB, which may hold production data.")
@click.option("--broker", type=click.Choice(["auto", "configured", "none"]), default="auto", show_default=True,
              help="auto: a private mosquitto, else an anonymous one on 127.0.0.1:1883, else none (never the "
                   "configured one); configured: the broker DOMINIO names, with the demo's own client id and "
                   "topics (<MQTT_TOPIC_PREFIX>-demo/...); none: no MQTT at all, the simulator writes straight "
                   "into the store.")
def demo(port: int | None, data_dir: Path, broker: str) -> None:
    """Start the demo (what `make run` does): web, ingest and simulated nodes, with a demo login."""
    from enertrack.checkout import require_checkout
    from enertrack.cli.common import settings_or_exit

    settings = settings_or_exit(ENERTRACK_ENV="development")
    require_checkout()  # before the demo creates its data directory or starts anything
    configured = "mqtt_host" in settings.model_fields_set  # DOMINIO set in the environment or .env
    sys.exit(run_demo(settings, port=port or settings.port, data_dir=data_dir, broker_choice=broker,
                      broker_configured=configured))
