"""`enertrack migrate-store`: copy the embedded SQLite store's readings into InfluxDB (or another SQLite file)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click

from enertrack.cli.common import fail, settings_or_exit
from enertrack.config import Settings


def _target_key(to: str, settings: Settings, target: Path | None) -> str:
    """What identifies the destination, so a checkpoint is never reused for another one."""
    where = f"{settings.influx_url}|{settings.influx_org}|{settings.influx_bucket}" if to == "influx" else str(target)
    return hashlib.sha256(f"{to}|{where}".encode()).hexdigest()[:12]


def _open_target(to: str, settings: Settings, target: Path | None):  # type: ignore[no-untyped-def]
    if to == "sqlite":
        from enertrack.store.sqlite.store import SQLiteStore

        if target is None:
            fail("--to sqlite needs --target PATH, the SQLite file to copy into")
        return SQLiteStore(target.resolve())
    missing = [name for name, value in (("INFLUX_URL", settings.influx_url), ("INFLUX_TOKEN", settings.influx_token),
                                        ("INFLUX_ORG", settings.influx_org), ("INFLUX_BUCKET", settings.influx_bucket))
               if not value]
    if missing:
        fail(f"--to influx needs {', '.join(missing)} (docs/influxdb.md)")
    from enertrack.store.factory import open_store

    return open_store(settings.model_copy(update={"store": "influx"}))


@click.command("migrate-store")
@click.option("--to", "to", type=click.Choice(["influx", "sqlite"]), required=True,
              help="influx: the InfluxDB that INFLUX_* name; sqlite: the file given by --target.")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The SQLite store to copy [default: ENERTRACK_TSDB_PATH or <data dir>/timeseries.sqlite3].")
@click.option("--target", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --to sqlite: the SQLite file to copy into.")
@click.option("--batch", "batch_size", default=5000, show_default=True, type=click.IntRange(1, 100_000),
              help="Readings per write.")
def migrate_store(to: str, source: Path | None, target: Path | None, batch_size: int) -> None:
    """Copy every reading of the embedded store into another store: idempotent and resumable."""
    from enertrack.db import make_engine, make_session_factory
    from enertrack.ingest.users_db import load_node_params
    from enertrack.store.base import StoreUnavailable
    from enertrack.store.copy import Checkpoint, copy_readings, pending
    from enertrack.store.sqlite.store import SQLiteStore

    settings = settings_or_exit()
    source = (source or settings.tsdb_file).resolve()
    if not source.is_file():
        fail(f"no SQLite store at {source}: pass --from PATH (the file ENERTRACK_TSDB_PATH or the data directory held)")
    if to == "sqlite" and target is not None and target.resolve() == source:
        fail("--target is the source itself: name another file")
    engine = make_engine(settings.sqlalchemy_url)
    try:
        # The energy rules' per-node knobs, as the daemon would use them; unknown nodes get the defaults.
        params = load_node_params(make_session_factory(engine))
    finally:
        engine.dispose()
    try:
        checkpoint = Checkpoint.load(source.with_name(f"{source.name}.copied-{_target_key(to, settings, target)}.json"))
    except ValueError as exc:
        fail(str(exc))
    with SQLiteStore(source) as origin:
        todo = sum(pending(origin, checkpoint).values())
        if not todo:
            click.echo(f"nothing to copy: every reading of {source} is already in the target")
            return
        destination = _open_target(to, settings, target)
        try:
            with click.progressbar(length=todo, label=f"copying {todo} readings", file=sys.stderr) as bar:
                result = copy_readings(origin, destination, checkpoint, params, batch_size=batch_size,
                                       on_batch=bar.update)
        except StoreUnavailable as exc:
            fail(f"{exc}. What was copied stays copied: run the same command again to go on", code=1)
        finally:
            destination.close()
    click.echo(f"copied {result.stored} readings of {result.nodes} nodes to {to} "
               f"({result.duplicates} were there already); checkpoint: {checkpoint.path}")
