"""`enertrack simulate`: demo nodes over MQTT(S), history straight into the store, or a load generator."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

if TYPE_CHECKING:
    from enertrack.config import Settings
    from enertrack.simulation.fleet import NodeSpec
    from enertrack.store.base import TimeseriesStore

NODE_PREFIX_RE = r"^[A-Za-z0-9_-]{0,60}$"


def _overrides(**options: Any) -> dict[str, Any]:
    """Settings fields set on the command line (None means: keep the environment's)."""
    from pydantic import SecretStr

    names = {"host": "mqtt_host", "port": "mqtt_port", "tls": "mqtt_tls", "username": "mqtt_user",
             "password": "mqtt_password", "ca_file": "mqtt_ca_file", "topic_prefix": "mqtt_topic_prefix"}
    update = {names[key]: value for key, value in options.items() if value is not None}
    if "mqtt_password" in update:
        update["mqtt_password"] = SecretStr(update["mqtt_password"])
    return update


@click.command("simulate")
@click.option("--nodes", default=5, show_default=True, type=click.IntRange(1, 1000), help="How many nodes.")
@click.option("--interval", default=10, show_default=True, type=click.IntRange(1, 86_400),
              help="Seconds between a node's readings.")
@click.option("--node-prefix", default="demo-", show_default=True, help="Node ids are PREFIX01, PREFIX02...")
@click.option("--grid", default="230v50", show_default=True, type=click.Choice(["230v50", "120v60"]),
              help="Supply: 230 V / 50 Hz or 120 V / 60 Hz.")
@click.option("--seed", default=42, show_default=True, type=int, help="Same seed, same readings.")
@click.option("--timezone", default=None,
              help="Local time of the nodes' daily rhythm [default: the registered user's, else "
                   "ENERTRACK_DEFAULT_TIMEZONE].")
@click.option("--reset-probability", default=0.01, show_default=True, type=click.FloatRange(0, 1),
              help="Meter restarts (counter back to zero) per node and day, on average; "
                   "0.01 is about one every 100 days, 0 never.")
@click.option("--backfill", "backfill_days", default=None, type=click.FloatRange(0, 3660, min_open=True),
              help="First write DAYS of history ending now straight into the configured store "
                   "(only what is missing), then go live.")
@click.option("--register-user", default=None, metavar="NAME",
              help="Create the nodes for this existing user in the users database (existing ones are kept).")
@click.option("--count", default=None, type=click.IntRange(min=0),
              help="Stop after this many readings per node (0: backfill or register only).")
@click.option("--rate", default=None, type=click.FloatRange(min=0),
              help="Load generator: send --count readings per node (timestamps ending now) at this many "
                   "messages/s in total, 0 for as fast as the broker acknowledges.")
@click.option("--no-broker", is_flag=True,
              help="Write live readings straight into the configured store instead of publishing them "
                   "(the demo's fallback when no broker can be reached).")
@click.option("--host", default=None, help="Broker host [default: DOMINIO].")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Broker port [default: PUERTO_MQTTS].")
@click.option("--tls/--no-tls", default=None, help="TLS to the broker [default: MQTT_TLS].")
@click.option("--username", default=None, help="[default: MQTT_USR]; {node_id} becomes each node's id.")
@click.option("--password", default=None, help="[default: MQTT_PASS]; {node_id} becomes each node's id.")
@click.option("--ca-file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CA certificate of the broker [default: MQTT_CA_FILE, else the system store].")
@click.option("--topic-prefix", default=None, help="[default: MQTT_TOPIC_PREFIX].")
@click.option("--connect-timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait for every node to connect.")
@click.option("--drain-timeout", default=30.0, show_default=True, type=click.FloatRange(min=0),
              help="On exit, seconds to wait for the broker to acknowledge what was sent.")
@click.option("--faults", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Follow this file for injected dips and outages (`enertrack simulate-fault` writes it).")
def simulate(
    nodes: int, interval: int, node_prefix: str, grid: str, seed: int, timezone: str | None,
    reset_probability: float, backfill_days: float | None, register_user: str | None, count: int | None,
    rate: float | None, no_broker: bool, connect_timeout: float, drain_timeout: float, faults: Path | None,
    **broker: Any,
) -> None:
    """Simulate ESP32 meter nodes: publish realistic readings over MQTT(S) exactly as the firmware does.

    Each node has its own character (house, shop, school...) from the seed. See docs/simulator.md.
    """
    import re

    from enertrack.cli.common import fail, settings_or_exit
    from enertrack.simulation.fleet import make_fleet, node_ids
    from enertrack.simulation.grid import GRIDS

    if not re.match(NODE_PREFIX_RE, node_prefix):
        fail(f"--node-prefix may only contain letters, digits, '_' and '-' (at most 60), got {node_prefix!r}")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            fail(f"--timezone must be an IANA timezone such as Europe/Madrid, got {timezone!r}")
    if rate is not None and not count:
        fail("--rate needs --count N (N >= 1): the load generator sends N readings per node, then stops")
    if rate is not None and backfill_days is not None:
        fail("--rate and --backfill do not mix: the burst re-sends the most recent readings the backfill writes")
    if rate is not None and no_broker:
        fail("--rate measures a broker and an ingest daemon: it needs the broker (drop --no-broker)")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    settings = settings_or_exit()
    settings = settings.model_copy(update=_overrides(**broker))
    specs = make_fleet(seed, node_ids(nodes, node_prefix), GRIDS[grid],
                       timezone or settings.default_timezone, reset_probability)
    if register_user is not None:
        specs = _register(settings, register_user, specs, interval, keep_timezone=timezone is not None)
    if not specs:
        fail("no node left to simulate")
    step_end = int(time.time()) // interval * interval
    if backfill_days is not None:
        sims = _backfill(settings, specs, interval, backfill_days, step_end)
    else:
        from enertrack.simulation.meter import NodeSimulator

        first = step_end - (count - 1) * interval if rate is not None and count else step_end
        sims = [NodeSimulator(spec, interval, first) for spec in specs]
    if count == 0:
        return
    if no_broker:
        sys.exit(_write_live(settings, sims, count, faults))
    sys.exit(_publish(settings, sims, count, rate, connect_timeout, drain_timeout, faults))


@contextmanager
def _stop_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event (stop, or a new one) set by Ctrl-C or SIGTERM; old handlers restored after."""
    stop = threading.Event() if stop is None else stop
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _with_faults(sink: Any, faults: Path | None) -> Any:
    """The sink, passing readings through the injected faults when a fault file is followed."""
    if faults is None:
        return sink
    from enertrack.simulation.faults import FaultFile, FaultySink

    return FaultySink(sink, FaultFile(faults))


def _write_live(settings: Any, sims: list[Any], count: int | None, faults: Path | None = None) -> int:
    """Live readings straight into the store until done or told to stop; the exit code."""
    from enertrack.cli.common import fail
    from enertrack.core.energy import EnergyParams
    from enertrack.simulation.publisher import StoreSink, run_live
    from enertrack.store.base import StoreUnavailable
    from enertrack.store.factory import open_store

    try:
        store = open_store(settings)
    except StoreUnavailable as exc:
        fail(str(exc))
    sink = StoreSink(store, {sim.spec.node_id: EnergyParams(interval_s=sim.interval_s) for sim in sims})
    click.echo(f"writing {len(sims)} nodes every {sims[0].interval_s} s straight into the store (no broker); "
               "Ctrl-C to stop", err=True)
    try:
        with _stop_on_signals() as stop:
            sent = run_live(sims, _with_faults(sink, faults), stop, count)
    except StoreUnavailable as exc:
        fail(f"the store stopped taking readings: {exc}")
    finally:
        store.close()
    click.echo(f"wrote {sent:,} readings into the store")
    return 0


@dataclass(frozen=True, slots=True)
class Registration:
    """What registering the simulated nodes did."""

    created: list[str]
    existing: list[str]
    foreign: list[str]  # ids already taken by another user: left alone
    timezone: str  # the user's, which the nodes' daily rhythm follows


def register_nodes(settings: Settings, username: str, specs: Iterable[NodeSpec], interval_s: int,
                   store: TimeseriesStore | None) -> Registration:
    """Create the user's simulated nodes that do not exist yet, through the same service as the web form.

    With a store, a new node starts with no readings, as on the Nodes page; None keeps what is stored
    under its id (a benchmark adopting a dataset it generated earlier).
    """
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from enertrack.cli.common import sessions
    from enertrack.models import Node
    from enertrack.simulation.publisher import SimulatorError
    from enertrack.web.services import nodes
    from enertrack.web.services.accounts import find_user

    specs = list(specs)
    try:
        with sessions(settings).begin() as db:
            user = find_user(db, username)
            if user is None:
                raise SimulatorError(f"no user named {username!r}: create it first (enertrack user create)")
            rows = db.execute(select(Node.node_id, Node.owner_id).where(
                Node.node_id.in_([spec.node_id for spec in specs])))
            taken = {node_id: owner for node_id, owner in rows}
            for spec in specs:
                if spec.node_id not in taken:
                    nodes.create_node(db, user.id, {
                        "node_id": spec.node_id, "description": f"{spec.character.label} (simulado)",
                        "location": "Simulador", "interval_s": interval_s}, store)
            return Registration([s.node_id for s in specs if s.node_id not in taken],
                                [n for n, owner in taken.items() if owner == user.id],
                                [n for n, owner in taken.items() if owner != user.id], user.timezone)
    except nodes.NodeError as exc:
        raise SimulatorError(f"cannot register the simulated nodes: {exc.errors}") from exc
    except SQLAlchemyError as exc:
        raise SimulatorError(
            f"cannot register the nodes in the users database ({exc.__class__.__name__}): "
            "is it reachable and migrated (enertrack db upgrade)?"
        ) from exc


def _register(settings: Any, username: str, specs: list[Any], interval: int, keep_timezone: bool) -> list[Any]:
    """Register the nodes; simulate only those that are the user's, in the user's timezone."""
    from enertrack.cli.common import fail
    from enertrack.simulation.publisher import SimulatorError
    from enertrack.store.base import StoreUnavailable
    from enertrack.store.factory import open_store

    try:
        store = open_store(settings)
        try:
            done = register_nodes(settings, username, specs, interval, store)
        finally:
            store.close()
    except (SimulatorError, StoreUnavailable) as exc:
        fail(str(exc))
    click.echo(f"nodes of {username}: {len(done.created)} created, {len(done.existing)} already there")
    if done.foreign:
        click.echo(f"warning: {', '.join(done.foreign)} belong to another user: not simulated", err=True)
    mine = [spec for spec in specs if spec.node_id not in done.foreign]
    return mine if keep_timezone else [replace(spec, timezone=done.timezone) for spec in mine]


def _backfill(settings: Any, specs: list[Any], interval: int, days: float, end: int) -> list[Any]:
    """Write the history into the configured store; the simulators, ready to go live."""
    from enertrack.cli.common import fail
    from enertrack.simulation.backfill import backfill
    from enertrack.store.base import StoreUnavailable
    from enertrack.store.factory import open_store

    start = end - int(days * 86_400) + interval
    try:
        store = open_store(settings)
    except StoreUnavailable as exc:
        fail(str(exc))
    try:
        result, sims = backfill(
            store, specs, interval, start, end,
            progress=lambda spec, n, seconds: click.echo(
                f"  {spec.node_id:<16} {spec.character.name:<9} {n:>11,} readings in {seconds:6.1f} s", err=True),
        )
    except StoreUnavailable as exc:
        fail(f"the store stopped taking readings: {exc}; run the same command again to continue where it stopped")
    except KeyboardInterrupt:
        fail("backfill interrupted; run the same command again to continue where it stopped", code=130)
    finally:
        store.close()
    click.echo(f"backfilled {result.readings:,} readings ({result.stored:,} new) for {len(specs)} nodes "
               f"in {result.seconds:.1f} s ({result.rate:,.0f} readings/s)")
    return sims


def _publish(settings: Any, sims: list[Any], count: int | None, rate: float | None,
             connect_timeout: float, drain_timeout: float, faults: Path | None = None) -> int:
    """Connect every node, publish until done or told to stop, say offline, disconnect; the exit code."""
    from enertrack.cli.common import fail
    from enertrack.simulation.publisher import NodePublisher, SimulatorError, run_burst, run_live

    publisher = NodePublisher(settings, [sim.spec.node_id for sim in sims])
    try:
        publisher.connect(connect_timeout)
    except SimulatorError as exc:
        fail(str(exc))
    where = (f"{settings.mqtt_host}:{settings.mqtt_port} ({'TLS' if settings.mqtt_tls else 'plain MQTT'}), "
             f"topics {settings.mqtt_topic_prefix}/<node_id>/telemetry")
    with _stop_on_signals(publisher.stop) as stop:  # also ends a publish waiting for an absent broker
        if rate is not None:
            click.echo(f"sending {count:,} readings for each of {len(sims)} nodes to {where}", err=True)
            burst = run_burst(sims, publisher, stop, count or 0, rate)
            sent = burst.sent
            click.echo(f"sent {burst.sent:,} readings in {burst.seconds:.2f} s ({burst.rate:,.0f} messages/s)")
        else:
            click.echo(f"publishing {len(sims)} nodes every {sims[0].interval_s} s to {where}; Ctrl-C to stop",
                       err=True)
            sent = run_live(sims, _with_faults(publisher, faults), stop, count)
    lost = publisher.close(drain_timeout)
    if lost:
        click.echo(f"error: {lost:,} of {sent:,} messages were not acknowledged by the broker within "
                   f"{drain_timeout:.0f} s", err=True)
        return 1
    click.echo(f"sent {sent:,} readings, every one acknowledged by the broker")
    return 0


@click.command("simulate-fault")
@click.option("--faults", type=click.Path(dir_okay=False, path_type=Path), default=Path("data/simulator-faults.jsonl"),
              show_default=True, help="The file the simulator follows (the demo's, by default).")
@click.option("--node", "node_id", required=True, help="The simulated node, e.g. demo-01.")
@click.option("--kind", type=click.Choice(["dip", "outage"]), required=True,
              help="dip: voltage at 80 %; outage: the node sends nothing.")
@click.option("--for", "duration", default="2m", show_default=True, help="How long: 90s, 2m, 1h.")
@click.option("--in", "delay", default="0s", show_default=True, help="Starting after: 0s, 1m.")
def simulate_fault(faults: Path, node_id: str, kind: str, duration: str, delay: str) -> None:
    """Inject a voltage dip or an outage into a running simulator (`enertrack simulate --faults`, the demo)."""
    from enertrack.alerts.rules import RuleError, parse_duration
    from enertrack.cli.common import fail
    from enertrack.simulation.faults import FaultFile, fault

    try:
        seconds, wait = parse_duration(duration), parse_duration(delay)
        found = fault(kind, node_id, int(time.time()) + wait, seconds)
    except (RuleError, ValueError) as exc:
        fail(str(exc))
    FaultFile(faults).add(found)
    click.echo(f"{kind} on {node_id} from {time.strftime('%H:%M:%S', time.localtime(found.start))} "
               f"for {seconds} s (written to {faults})")
