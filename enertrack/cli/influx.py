"""`enertrack influx`: maintenance of the InfluxDB store (docs/influxdb.md, "Migrating")."""

from __future__ import annotations

import click

from enertrack.cli.common import fail, settings_or_exit


@click.group()
def influx() -> None:
    """InfluxDB store maintenance."""


@influx.command("rebuild-ledger")
@click.option("--node", "node_ids", multiple=True, help="A node id (repeat for several).")
@click.option("--all", "all_nodes", is_flag=True, help="Every node that has readings in the bucket.")
@click.option("--replace", is_flag=True,
              help="Delete each node's ledger first (only with the ingest daemon stopped).")
def rebuild_ledger(node_ids: tuple[str, ...], all_nodes: bool, replace: bool) -> None:
    """Write the energy ledger from stored readings (readings stored before the ledger existed)."""
    from enertrack.store import StoreUnavailable
    from enertrack.store.influx.store import InfluxStore

    if bool(node_ids) == all_nodes:
        fail("name the nodes with --node ID (repeatable), or give --all")
    settings = settings_or_exit()
    if settings.store_kind != "influx":
        fail("the configured store is not InfluxDB: set INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG "
             "and INFLUX_BUCKET (the SQLite store keeps its energy in rollups, nothing to rebuild)")
    store = InfluxStore(settings.influx_url or "",
                        settings.influx_token.get_secret_value() if settings.influx_token else "",
                        settings.influx_org or "", settings.influx_bucket or "")
    try:
        for node_id in store.node_ids() if all_nodes else node_ids:
            written = store.rebuild_ledger(node_id, replace=replace)
            click.echo(f"{node_id}\t{written} ledger points")
    except StoreUnavailable as exc:
        fail(f"{exc}; nothing is lost, run the command again")
    finally:
        store.close()
