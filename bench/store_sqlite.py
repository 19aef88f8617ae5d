"""Benchmark of SQLiteStore: write throughput (bulk, small batches) and query latency on a big file.

    python bench/store_sqlite.py write                     # throughput on fresh temporary files
    python bench/store_sqlite.py build --db /work/bench-data/bench.sqlite3 [--nodes 50 --days 365]
    python bench/store_sqlite.py query --db /work/bench-data/bench.sqlite3
    python bench/store_sqlite.py stale [--days 90 --step 10]  # batches holding one stale-clock reading
    python bench/store_sqlite.py upgrade --db COPY.sqlite3   # upgrades COPY in place: use a copy

Results and the commands that produced them go in docs/performance.md. Not a test: timings
on a shared 2-core machine are noisy, so each figure is a median (and p95) of repeated calls.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # this checkout's enertrack, not an installed one

from enertrack.core.columns import ReadingColumns
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.sqlite.store import SQLiteStore

DAY = 86_400
START = 1_735_689_600  # 2025-01-01T00:00:00Z


def day_of_readings(
    nodes: int, day: int, step: int, rng: np.random.Generator, energy: np.ndarray
) -> list[Reading]:
    """One day of plausible readings for every node, in time order (updates `energy` in place)."""
    per_node = DAY // step
    ts = START + day * DAY + np.arange(per_node) * step
    hour = (ts % DAY) / 3600.0
    curve = 300 + 900 * np.exp(-((hour - 20.5) ** 2) / 4) + 400 * np.exp(-((hour - 8) ** 2) / 2)
    out: list[Reading] = []
    for node in range(nodes):
        power = np.clip(curve * rng.uniform(0.6, 1.4) + rng.normal(0, 60, per_node), 5, None)
        power[rng.random(per_node) < 0.01] += 2000  # appliance spikes
        voltage = rng.normal(230, 2.5, per_node)
        pf = rng.uniform(0.8, 0.99, per_node)
        kwh = energy[node] + np.cumsum(power * step / 3_600_000)
        energy[node] = kwh[-1]
        out += map(
            Reading,
            [f"node-{node:03d}"] * per_node,
            ts.tolist(),
            voltage.round(1).tolist(),
            (power / voltage / pf).round(3).tolist(),
            power.round(1).tolist(),
            kwh.round(4).tolist(),
            pf.round(2).tolist(),
            rng.normal(50, 0.02, per_node).round(2).tolist(),
        )
    out.sort(key=lambda r: r.ts)  # the order readings arrive in: time, all nodes interleaved
    return out


def params_for(nodes: int, step: int) -> dict[str, EnergyParams]:
    return {f"node-{n:03d}": EnergyParams(interval_s=step) for n in range(nodes)}


def bench_write(args: argparse.Namespace) -> None:
    """Readings per second of write(), rollups included, for big and small batches."""
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        cases: list[tuple[str, int, int]] = [  # label, nodes, readings per write
            ("bulk: 1 node x 1 day per write", 1, 0),
            ("bulk: 50 nodes x 1 day per write", 50, 0),
            ("ingest: 500 readings per write, 50 nodes", 50, 500),
            ("ingest: 100 readings per write, 50 nodes", 50, 100),
            ("ingest: 20 readings per write, 50 nodes", 50, 20),
        ]
        for i, (label, nodes, batch) in enumerate(cases):
            store = SQLiteStore(Path(tmp) / f"w{i}.sqlite3")
            params = params_for(nodes, 60)
            energy = np.full(nodes, 1000.0)
            total, spent, cpu = 0, 0.0, 0.0
            days = args.days if batch == 0 else 1
            for day in range(days):
                readings = day_of_readings(nodes, day, 60, rng, energy)
                size = batch or len(readings)
                batches = [readings[j : j + size] for j in range(0, len(readings), size)]
                for part in batches:
                    begin, begin_cpu = time.perf_counter(), time.process_time()
                    store.write(part, params)
                    spent += time.perf_counter() - begin
                    cpu += time.process_time() - begin_cpu
                    total += len(part)
            store.close()
            # CPU time leaves out waiting for the disk and for the cores other jobs hold.
            print(f"{label:45s} {total:>9,} readings  {total / spent:>10,.0f} readings/s"
                  f"  ({total / cpu:>10,.0f} per CPU second)")


def bench_build(args: argparse.Namespace) -> None:
    """Write the big dataset one day (all nodes) per write(), reporting throughput as it goes."""
    db = Path(args.db)
    if db.exists():
        raise SystemExit(f"{db} exists: delete it first (and its -wal/-shm files)")
    store = SQLiteStore(db)
    rng = np.random.default_rng(7)
    energy = np.full(args.nodes, 1000.0)
    params = params_for(args.nodes, args.step)
    total, spent, started = 0, 0.0, time.perf_counter()
    for day in range(args.days):
        readings = day_of_readings(args.nodes, day, args.step, rng, energy)
        begin = time.perf_counter()
        store.write(readings, params)
        spent += time.perf_counter() - begin
        total += len(readings)
        if day % 30 == 29 or day == args.days - 1:
            print(
                f"day {day + 1:4d}: {total:>12,} readings,"
                f" write() {total / spent:>9,.0f} readings/s,"
                f" wall {time.perf_counter() - started:7.1f} s",
                flush=True,
            )
    store.close()
    print(f"file size {db.stat().st_size / 1e9:.2f} GB")


def bench_stale(args: argparse.Namespace) -> None:
    """Cost of small in-order batches on a node with a long history, and of one stale reading.

    Two nodes with `--days` of history every `--step` s: a meter (power and its counter) and a
    voltage-only monitor. Then 20-reading batches that continue them in time; for the meter
    also with one extra reading from far back in its history (a clock that is months behind).
    """
    rng = np.random.default_rng(3)
    count = args.days * DAY // args.step
    ts = START + np.arange(count, dtype=np.int64) * args.step
    power = rng.uniform(100.0, 3000.0, count)
    energy = 1000.0 + np.cumsum(power * args.step / 3_600_000)
    nan, volts = np.full(count, np.nan), np.full(count, 230.0)
    params = {"meter": EnergyParams(interval_s=args.step), "volts": EnergyParams(interval_s=args.step)}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        store = SQLiteStore(Path(tmp) / "stale.sqlite3", cache_mib=8)  # the ingest daemon's cache
        for i in range(0, count, 100_000):
            part = slice(i, i + 100_000)
            store.write(ReadingColumns("meter", ts[part], nan[part], nan[part], power[part],
                                       energy[part], nan[part], nan[part]), params)
            store.write(ReadingColumns("volts", ts[part], volts[part], nan[part], nan[part],
                                       nan[part], nan[part], nan[part]), params)
        print(f"history: {count:,} readings per node, every {args.step} s over {args.days} days")
        now, counter = int(ts[-1]), float(energy[-1])
        cases = (("meter: 20 in-order readings per write", "meter", False),
                 ("meter: the same + 1 reading from the first day", "meter", True),
                 ("voltage only: 20 in-order readings per write", "volts", False))
        for label, node, stale in cases:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            samples = []
            for b in range(args.repeat):
                batch = []
                for _ in range(20):
                    now += args.step
                    counter += 0.001
                    values = {"voltage": 230.0} if node == "volts" else {"power": 500.0, "energy": counter}
                    batch.append(Reading(node, now, **values))
                if stale:  # between two stored readings of the first day, never a duplicate
                    old = int(ts[1000 + b]) + args.step // 2
                    batch.append(Reading(node, old, power=500.0, energy=float(energy[1000 + b])))
                begin = time.perf_counter()
                store.write(batch, params)
                samples.append((time.perf_counter() - begin) * 1000)
            samples.sort()
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
            print(f"{label:50s} p50 {statistics.median(samples):8.2f} ms"
                  f"  p95 {samples[int(0.95 * (len(samples) - 1))]:8.2f} ms"
                  f"  peak RSS +{grown:.0f} MB")
        store.close()


def bench_upgrade(args: argparse.Namespace) -> None:
    """Open (so upgrade) an older file, then write one reading 200 days late and one live."""
    begin = time.perf_counter()
    store = SQLiteStore(args.db)
    print(f"open, upgrade included: {(time.perf_counter() - begin) * 1000:.1f} ms")
    node = f"node-{7:03d}"
    last = store.latest([node])[node]
    first, second = list(store.readings(node, last.ts - 200 * DAY, last.ts - 200 * DAY + 3600))[:2]
    assert first.energy is not None and second.energy is not None and first.power is not None
    late = Reading(node, (first.ts + second.ts) // 2, power=first.power,
                   energy=(first.energy + second.energy) / 2)
    day = first.ts // DAY * DAY
    energy_before = store.energy([node], [day, day + DAY])["energy_kwh"].sum()
    live = Reading(node, last.ts + args.step, power=500.0, energy=(last.energy or 0.0) + 0.008)
    begin = time.perf_counter()
    result = store.write([late, live], params_for(args.nodes, args.step))
    print(f"write of a reading 200 days late and a live one: {(time.perf_counter() - begin) * 1000:.1f} ms,"
          f" {result}")
    energy_after = store.energy([node], [day, day + DAY])["energy_kwh"].sum()
    print(f"that day's energy {energy_before:.6f} -> {energy_after:.6f} kWh (a counter value on the line)")
    store.close()


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """p50 and p95 in ms over `repeat` calls (after one warm-up call), and the last result."""
    result = fn()
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], result


def month_starts(zone: str, year: int) -> list[int]:
    tz = ZoneInfo(zone)
    months = [date(year + (m // 12), m % 12 + 1, 1) for m in range(13)]
    return [int(datetime.combine(d, dtime(), tzinfo=tz).timestamp()) for d in months]


def day_starts(zone: str, first: date, days: int) -> Iterator[int]:
    tz = ZoneInfo(zone)
    for d in range(days + 1):
        yield int(
            datetime.combine(
                date.fromordinal(first.toordinal() + d), dtime(), tzinfo=tz
            ).timestamp()
        )


def bench_query(args: argparse.Namespace) -> None:
    """Latency of the dashboard's queries on the big dataset."""
    store = SQLiteStore(args.db)
    nodes = [f"node-{n:03d}" for n in range(args.nodes)]
    last = store.latest(nodes[:1])[nodes[0]].ts + 60
    year, month = last - 365 * DAY, last - 30 * DAY
    cases: list[tuple[str, Callable[[], object]]] = [
        ("latest, 50 nodes", lambda: store.latest(nodes)),
        ("series power 30 d (2000 points)", lambda: store.series(nodes[7], "power", month, last)),
        (
            "series voltage 1 year (2000 points)",
            lambda: store.series(nodes[7], "voltage", year, last),
        ),
        ("summary power 30 d", lambda: store.summary(nodes[7], "power", month, last)),
        ("summary voltage 1 year", lambda: store.summary(nodes[7], "voltage", year, last)),
        (
            "energy 2025 by month, 50 nodes, UTC",
            lambda: store.energy(nodes, month_starts("UTC", 2025)),
        ),
        (
            "energy 2025 by month, 50 nodes, Asia/Kathmandu",
            lambda: store.energy(nodes, month_starts("Asia/Kathmandu", 2025)),
        ),
        (
            "energy 30 days by day, 50 nodes, Europe/Madrid",
            lambda: store.energy(nodes, list(day_starts("Europe/Madrid", date(2025, 11, 1), 30))),
        ),
        (
            "energy 7 days by hour, 50 nodes, Asia/Kolkata",
            lambda: store.energy(nodes, list(range(month - 19800 + 5400, month + 7 * DAY, 3600))),
        ),
    ]
    for label, fn in cases:
        p50, p95, result = timed(fn, args.repeat)
        size = len(result) if hasattr(result, "__len__") else ""
        print(f"{label:50s} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({size} rows)")
    begin = time.perf_counter()
    count = sum(1 for _ in store.readings(nodes[0], year, last))
    print(
        f"{'readings(), 1 node x 1 year, streamed':50s} {count:,} rows"
        f" in {time.perf_counter() - begin:.2f} s"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write")
    write.add_argument("--days", type=int, default=3)
    write.add_argument("--tmp", default=None, help="directory for the temporary files")
    build = sub.add_parser("build")
    build.add_argument("--db", required=True)
    build.add_argument("--nodes", type=int, default=50)
    build.add_argument("--days", type=int, default=365)
    build.add_argument("--step", type=int, default=60)
    query = sub.add_parser("query")
    query.add_argument("--db", required=True)
    query.add_argument("--nodes", type=int, default=50)
    query.add_argument("--repeat", type=int, default=20)
    upgrade = sub.add_parser("upgrade")
    upgrade.add_argument("--db", required=True)
    upgrade.add_argument("--nodes", type=int, default=50)
    upgrade.add_argument("--step", type=int, default=60)
    stale = sub.add_parser("stale")
    stale.add_argument("--days", type=int, default=90)
    stale.add_argument("--step", type=int, default=10)
    stale.add_argument("--repeat", type=int, default=20)
    stale.add_argument("--tmp", default=None, help="directory for the temporary file")
    args = parser.parse_args()
    commands = {"write": bench_write, "build": bench_build, "query": bench_query, "stale": bench_stale,
                "upgrade": bench_upgrade}
    commands[args.command](args)


if __name__ == "__main__":
    main()
