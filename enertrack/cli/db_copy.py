"""`enertrack db copy --to URL`: the users database (accounts, nodes, ...) copied into another one, e.g. MariaDB."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from datetime import datetime

import click
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from enertrack.cli.common import fail, settings_or_exit

CHUNK = 1000


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None


def _same(a: object, b: object) -> bool:
    """Equal as stored: MariaDB keeps whole seconds of a DATETIME and single precision of a FLOAT."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(microsecond=0) == b.replace(microsecond=0)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return a == b


class Clash(ValueError):
    """The target holds a different row under a primary key the source uses."""


def _pending(source: Engine, target: Engine, table: Table) -> tuple[list[dict[str, object]], int]:
    """The source rows whose primary key the target lacks, and how many it holds already (identical)."""
    key = [c.name for c in table.primary_key.columns]
    with target.connect() as conn:
        present = {tuple(row[k] for k in key): row for row in (dict(r._mapping) for r in conn.execute(select(table)))}
    with source.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
    missing = []
    for row in rows:
        there = present.get(tuple(row[k] for k in key))
        if there is None:
            missing.append(row)
        elif not all(_same(row[name], there[name]) for name in row):
            raise Clash(f"table {table.name}, {', '.join(f'{k}={row[k]!r}' for k in key)} holds another row")
    return missing, len(rows) - len(missing)


def copy_tables(source: Engine, target: Engine, on_rows: Callable[[int], None] = lambda _n: None
                ) -> dict[str, tuple[int, int]]:
    """Copy every EnerTrack table, parents first; per table (rows copied, rows already there)."""
    from enertrack.models import Base

    done: dict[str, tuple[int, int]] = {}
    for table in Base.metadata.sorted_tables:
        missing, present = _pending(source, target, table)
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            with target.begin() as conn:  # one transaction per chunk: what is committed stays copied
                conn.execute(table.insert(), chunk)
            on_rows(len(chunk))
        done[table.name] = (len(missing), present)
    return done


@click.command("copy")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="SQLAlchemy URL of the database to copy into, e.g. "
                   "mysql+mysqldb://enertrack:PASSWORD@localhost/enertrack?charset=utf8mb4")
def db_copy(target_url: str) -> None:
    """Copy the configured users database into another one (migrated first); rerunning copies only what is missing."""
    from sqlalchemy.engine import make_url

    from enertrack.checkout import require_checkout
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = settings_or_exit()
    require_checkout()
    try:
        target_address = make_url(target_url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        fail(f"--to must be a SQLAlchemy URL such as mysql+mysqldb://USER:PASSWORD@HOST/DB, got {target_url!r}")
    source, target = make_engine(settings.sqlalchemy_url), make_engine(target_address)
    try:
        if source.url.render_as_string(hide_password=False) == target.url.render_as_string(hide_password=False):
            fail("--to is the configured database itself: name another one")
        if _revision(source) is None:
            fail("the configured users database has no EnerTrack schema: nothing to copy")
        upgrade(source)
        upgrade(target)  # the same schema on both sides before a row moves
        total = sum(len(_pending(source, target, table)[0]) for table in _tables())
        with click.progressbar(length=max(total, 1), label=f"copying {total} rows", file=sys.stderr) as bar:
            done = copy_tables(source, target, bar.update)
    except (IntegrityError, Clash) as exc:
        fail(f"the target already holds other rows that clash with these ({getattr(exc, 'orig', exc)}): copy "
             "into an empty database, or one this command filled")
    except SQLAlchemyError as exc:
        fail(f"could not copy: {getattr(exc, 'orig', exc)}. What was copied stays: run the same command again", code=1)
    finally:
        source.dispose()
        target.dispose()
    copied = sum(n for n, _ in done.values())
    click.echo(f"copied {copied} rows into {target_address.render_as_string(hide_password=True)} ("
               + ", ".join(f"{name}: {n} new, {p} there already" for name, (n, p) in done.items()) + ")")


def _tables() -> list[Table]:
    from enertrack.models import Base

    return list(Base.metadata.sorted_tables)
