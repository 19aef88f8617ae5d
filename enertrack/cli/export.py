"""`enertrack export` (energy per node and calendar period) and `export-readings` (raw readings), as CSV."""

from __future__ import annotations

import csv
import sys
from datetime import date

import click

from enertrack.core.calendar import EARLIEST, LATEST, Period, boundaries, parse_day


def _day(value: str, name: str) -> date:
    day = parse_day(value) if len(value) == 10 else None
    if day is None:
        raise click.BadParameter(f"{value!r} is not a date like 2026-01-31 between {EARLIEST} and {LATEST}",
                                 param_hint=name)
    return day


@click.command("export")
@click.option("--user", "username", required=True, help="Whose nodes.")
@click.option("--period", type=click.Choice([p.value for p in Period]), required=True)
@click.option("--start", required=True, help="First local day, YYYY-MM-DD (inclusive).")
@click.option("--end", required=True, help="Local day after the last one, YYYY-MM-DD (exclusive).")
@click.option("--tz", "tz_name", default=None, help="IANA timezone [default: the user's profile timezone].")
@click.option("--node", "node_ids", multiple=True, help="Only this node (repeatable) [default: all the user's nodes].")
def export_energy(username: str, period: str, start: str, end: str, tz_name: str | None,
                  node_ids: tuple[str, ...]) -> None:
    """Print CSV period_start,node_id,energy_kwh: one row per node and period, local offsets."""
    from enertrack.cli.common import fail, sessions, settings_or_exit
    from enertrack.store import StoreUnavailable
    from enertrack.store.factory import open_store
    from enertrack.validation import timezone_error
    from enertrack.web.services import nodes
    from enertrack.web.services.accounts import find_user
    from enertrack.web.services.analysis import export_csv, load_energy

    first, last = _day(start, "--start"), _day(end, "--end")
    if last <= first:
        fail(f"--end ({end}) must be after --start ({start}); --end is exclusive")
    settings = settings_or_exit()
    with sessions(settings)() as db:
        user = find_user(db, username)
        if user is None:
            fail(f"no user called {username!r}")
        zone = tz_name or user.timezone
        if timezone_error(zone):
            fail(f"--tz must be an IANA timezone such as Europe/Madrid, got {zone!r}")
        mine = [n.node_id for n in nodes.list_nodes(db, user.id)]
    wanted = list(dict.fromkeys(node_ids)) or mine  # a node named twice is exported once
    unknown = [n for n in wanted if n not in mine]
    if unknown:
        fail(f"{username} has no node {unknown[0]!r} (see `enertrack node list --user {username}`)")
    marks = boundaries(first, last, period, zone)
    store = open_store(settings)
    try:
        table = load_energy(store, wanted, marks, zone)
    except StoreUnavailable as exc:
        fail(f"the time-series store is unavailable: {exc}", code=1)
    finally:
        store.close()
    sys.stdout.write(export_csv(table, zone))


def _instant(text: str, option: str) -> int:
    """An ISO-8601 date or time from an option, or a usage error that shows an example."""
    from enertrack.web.services.exports import instant

    try:
        return instant(text)
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{text!r} is not an ISO-8601 date or time;"
            " use e.g. 2026-01-02 or 2026-01-02T03:04:05Z",
            param_hint=option,
        ) from None


@click.command("export-readings")
@click.option("--node", "node_id", required=True, help="Node id whose readings to print.")
@click.option("--start", help="First instant included (ISO-8601; UTC when no offset is given).")
@click.option("--end", help="First instant excluded (ISO-8601; UTC when no offset is given).")
def export_readings(node_id: str, start: str | None, end: str | None) -> None:
    """Print a node's stored readings as CSV (ts in ISO-8601 UTC, oldest first).

    Columns: ts,node_id,voltage,current,power,energy,power_factor,frequency.
    """
    from sqlalchemy import select

    from enertrack.cli.common import fail, sessions, settings_or_exit
    from enertrack.models import Node
    from enertrack.store.base import StoreUnavailable
    from enertrack.store.factory import open_store
    from enertrack.web.services.exports import HEADER, csv_rows

    begin = _instant(start, "--start") if start is not None else None
    until = _instant(end, "--end") if end is not None else None
    if begin is not None and until is not None and begin >= until:
        raise click.BadParameter(f"--start ({start}) must be before --end ({end})", param_hint="--start/--end")
    settings = settings_or_exit()
    try:
        with sessions(settings)() as db:
            known = db.execute(select(Node.id).where(Node.node_id == node_id)).first() is not None
    except Exception as exc:  # noqa: BLE001 - say which database failed and how, then exit non-zero
        fail(f"cannot read the nodes database: {exc}", code=1)
    if not known:
        fail(f"unknown node {node_id!r}: see `enertrack node list` for the node ids", code=1)
    try:
        store = open_store(settings)
        try:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(csv_rows(store.readings(node_id, begin, until)))
        finally:
            store.close()
    except StoreUnavailable as exc:
        fail(str(exc), code=1)
