"""The `enertrack` command: one group, each subcommand in the module named after it."""

from __future__ import annotations

import click

from enertrack.cli.alerts import alert, alerts, notify
from enertrack.cli.broker import broker
from enertrack.cli.certs import certs
from enertrack.cli.common import EnerTrackGroup
from enertrack.cli.demo import demo
from enertrack.cli.export import export_energy, export_readings
from enertrack.cli.influx import influx
from enertrack.cli.ingest import ingest
from enertrack.cli.migrate_store import migrate_store
from enertrack.cli.node import node
from enertrack.cli.serve import db, serve
from enertrack.cli.simulate import simulate, simulate_fault
from enertrack.cli.user import user


@click.group(cls=EnerTrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enertrack")
def main() -> None:
    """EnerTrack: energy monitoring for ESP32 smart meters."""


for command in (serve, demo, db, user, node, ingest, simulate, export_energy, export_readings, influx, certs,
                migrate_store, alerts, alert, notify, simulate_fault, broker):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
