"""`enertrack export-readings`: a node's stored readings as streamed CSV, for scripts."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

import click
from sqlalchemy import select

from enertrack.config import ConfigError, Settings, load_settings
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading

HEADER = ["ts", "node_id", *NAMES]


def instant(text: str) -> int:
    """Epoch seconds of an ISO-8601 date or time; without an offset it is UTC. ValueError else."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def parse_instant(text: str, option: str) -> int:
    """instant() for a command-line option, with a usage error that shows an example."""
    try:
        return instant(text)
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{text!r} is not an ISO-8601 date or time;"
            " use e.g. 2026-01-02 or 2026-01-02T03:04:05Z",
            param_hint=option,
        ) from None


def iso_utc(ts: int) -> str:
    """2026-01-02T03:04:05Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_rows(readings: Iterable[Reading]) -> Iterable[list[object]]:
    """One CSV row per reading; a magnitude the reading did not carry is an empty field."""
    for reading in readings:
        yield [iso_utc(reading.ts), reading.node_id, *(getattr(reading, name) for name in NAMES)]


def node_exists(settings: Settings, node_id: str) -> bool:
    """True when the users-and-nodes database knows the node."""
    from enertrack.db import make_engine
    from enertrack.models import Node

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(Node.id).where(Node.node_id == node_id)).first() is not None
    finally:
        engine.dispose()


@click.command("export-readings")
@click.option("--node", "node_id", required=True, help="Node id whose readings to print.")
@click.option("--start", help="First instant included (ISO-8601; UTC when no offset is given).")
@click.option("--end", help="First instant excluded (ISO-8601; UTC when no offset is given).")
def export_readings(node_id: str, start: str | None, end: str | None) -> None:
    """Print a node's stored readings as CSV (ts in ISO-8601 UTC, oldest first).

    Columns: ts,node_id,voltage,current,power,energy,power_factor,frequency.
    """
    begin = parse_instant(start, "--start") if start is not None else None
    until = parse_instant(end, "--end") if end is not None else None
    if begin is not None and until is not None and begin >= until:
        raise click.BadParameter(
            f"--start ({start}) must be before --end ({end})", param_hint="--start/--end"
        )
    try:
        settings = load_settings(check=False)
    except ConfigError as exc:
        raise click.ClickException("; ".join(exc.problems)) from None
    try:
        known = node_exists(settings, node_id)
    except Exception as exc:  # noqa: BLE001 - say which database failed and how, then exit non-zero
        raise click.ClickException(f"cannot read the nodes database: {exc}") from None
    if not known:
        raise click.ClickException(
            f"unknown node {node_id!r}: see `enertrack node list` for the node ids"
        )

    from enertrack.store.base import StoreUnavailable
    from enertrack.store.factory import open_store

    try:
        store = open_store(settings)
        try:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(csv_rows(store.readings(node_id, begin, until)))
        finally:
            store.close()
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
