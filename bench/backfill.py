"""Benchmark of the simulator: generation alone, and backfill into SQLite end to end (readings/s).

    python bench/backfill.py generate [--nodes 8 --days 30 --interval 60]
    python bench/backfill.py backfill [--nodes 10 --days 30 --interval 60] [--db FILE]
    python bench/backfill.py dataset --db /work/bench-data/dashboard.sqlite3   # 50 x 365 d x 60 s

`dataset` runs the real command the dashboard benchmark's data comes from
(`enertrack simulate --nodes 50 --interval 60 --backfill 365 --count 0`, 26.3 M readings)
in a child process and reports its wall time and peak memory. Results and the commands
go in docs/performance.md ("Backfill"). Not a test: the machine is shared, so each
figure says the load average it was measured under.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's enertrack, not an installed one

from enertrack.simulation.backfill import BACKFILL_CHUNK, backfill  # noqa: E402
from enertrack.simulation.fleet import make_fleet, node_ids  # noqa: E402
from enertrack.simulation.meter import NodeSimulator  # noqa: E402

END = 1_790_000_040  # a fixed "now" (multiple of 60) so runs are comparable
DAY = 86_400


def load() -> str:
    """The 1-minute load average: how busy the shared machine was."""
    return f"load {os.getloadavg()[0]:.2f}"


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB."""
    return resource.getrusage(who).ru_maxrss / 1024


def generate(nodes: int, days: float, interval: int) -> None:
    """Readings/s of the pure generator: arrays only, then arrays plus Reading objects."""
    specs = make_fleet(42, node_ids(nodes))
    start = END - int(days * DAY) + interval
    for label, objects in (("arrays", False), ("arrays + Reading objects", True)):
        began, count = time.perf_counter(), 0
        for spec in specs:
            sim = NodeSimulator(spec, interval, start)
            for columns in sim.chunks(END, BACKFILL_CHUNK):
                if objects:
                    columns.readings()
                count += len(columns)
        seconds = time.perf_counter() - began
        print(f"generation, {label:<26} {count:>12,} readings in {seconds:7.2f} s = "
              f"{count / seconds:>12,.0f} readings/s"
              f"  ({load()})")


def backfill_into(db: Path, nodes: int, days: float, interval: int) -> None:
    """Readings/s of backfill() into a SQLiteStore: generation and store.write, end to end."""
    from enertrack.store.sqlite.store import SQLiteStore

    specs = make_fleet(42, node_ids(nodes))
    store = SQLiteStore(db)
    try:
        before = load()
        result, _ = backfill(store, specs, interval, END - int(days * DAY) + interval, END)
    finally:
        store.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e9
    print(f"backfill into SQLite: {result.readings:,} readings ({result.stored:,} new) in {result.seconds:.1f} s = "
          f"{result.rate:,.0f} readings/s; peak RSS {peak_rss_mb():.0f} MB; file {size:.2f} GB  "
          f"({before}, then {load()})")


def dataset(db: Path, nodes: int, days: float, interval: int) -> None:
    """The dashboard benchmark's dataset, built by the real command in a child process."""
    command = [sys.executable, "-m", "enertrack.cli.main", "simulate", "--nodes", str(nodes),
               "--interval", str(interval), "--backfill", str(days), "--count", "0"]
    env = {**os.environ, "ENERTRACK_TSDB_PATH": str(db), "PYTHONPATH": str(REPO)}
    print(f"ENERTRACK_TSDB_PATH={db} {' '.join(command[1:])}  ({load()})")
    began = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True)
    seconds = time.perf_counter() - began
    readings = nodes * int(days * DAY) // interval
    print(f"dataset: {readings:,} readings in {seconds:.1f} s wall = {readings / seconds:,.0f} readings/s "
          f"(process start included); child peak RSS {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB  ({load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["generate", "backfill", "dataset"])
    parser.add_argument("--nodes", type=int)
    parser.add_argument("--days", type=float)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--db", type=Path, help="SQLite file (backfill: default a temporary one)")
    args = parser.parse_args()
    if args.what == "generate":
        generate(args.nodes or 8, args.days or 30, args.interval)
    elif args.what == "backfill":
        if args.db:
            backfill_into(args.db, args.nodes or 10, args.days or 30, args.interval)
        else:
            with tempfile.TemporaryDirectory() as folder:
                backfill_into(Path(folder) / "bench.sqlite3", args.nodes or 10, args.days or 30, args.interval)
    else:
        if args.db is None:
            parser.error("dataset needs --db (e.g. /work/bench-data/dashboard.sqlite3: not in git)")
        if args.db.exists():
            parser.error(f"{args.db} exists: the backfill would only add what is missing; remove it first")
        args.db.parent.mkdir(parents=True, exist_ok=True)
        dataset(args.db, args.nodes or 50, args.days or 365, args.interval)


if __name__ == "__main__":
    main()
