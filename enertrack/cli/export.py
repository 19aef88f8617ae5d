"""`enertrack export`: energy per node and calendar period as CSV, for scripting."""

from __future__ import annotations

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
    from enertrack.web.services import nodes
    from enertrack.web.services.accounts import find_user
    from enertrack.web.services.analysis import export_csv, load_energy
    from enertrack.cli.common import fail, sessions, settings_or_exit
    from enertrack.store import StoreUnavailable
    from enertrack.store.factory import open_store
    from enertrack.validation import timezone_error

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
