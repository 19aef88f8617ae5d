"""Benchmark of the dashboards' callbacks on the 26.3 M-reading dataset (server-side time).

    python bench/dashboard.py [--db /work/bench-data/dashboard.sqlite3] [--calls 20] [--naive-calls 3]

The dataset is the simulator's backfill of 50 nodes x 365 days at 60 s (docs/performance.md,
"Backfill"). First the same command runs again, so the history reaches the present (it only
writes the missing minutes; --no-top-up skips that). Then a user owning the 50 nodes is
registered in a fresh users database and logged in through the real form, and each callback
is POSTed exactly as the browser does (Flask test client: the guard, the ownership checks,
the figures, orjson):

- panel `refresh`: the first render, and a tick that patches the numbers;
- node page `draw` for the 30-day and 1-year presets;
- analysis `analyse`: the last 12 months by month, the last 30 days by day.

Each one is set beside a naive pandas aggregation of the raw readings giving the same answer
(read with pandas from the SQLite file, then the energy rules of enertrack/core/energy.py), and the
two answers are compared. Not a test: the machine is shared, so each figure comes with the
load average.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

# harness puts this checkout on sys.path, before enertrack is imported
from harness import REPO, Bench, load_average, logged_in, p95, percentiles, timed
from node_dashboard import draw
from node_dashboard import naive as naive_node

from enertrack.cli.simulate import register_nodes
from enertrack.config import Settings
from enertrack.core.calendar import boundaries, day_start, today
from enertrack.core.energy import DEFAULT_MAX_POWER_W, Points, bucket_energy
from enertrack.core.magnitudes import NAMES
from enertrack.core.status import NodeStatus, node_status
from enertrack.simulation.fleet import make_fleet, node_ids
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.context import AppServices
from enertrack.web.services.analysis import default_range, load_energy, previous_energy, previous_range
from enertrack.web.services.node_dashboard import PRESETS, preset_range
from enertrack.web.services.panel import KPI_NAMES, overview

DATASET = Path("/work/bench-data/dashboard.sqlite3")
NODES, INTERVAL_S, DAYS, SEED = 50, 60, 365, 42
TZ = "Europe/Madrid"  # the simulator's default: the nodes' daily rhythm is local to it
TARGET_P95_S = 0.150
# Raw readings read before a range, so the pair that spans its start is split like the store does.
MARGIN_S = 3600


def dataset_command() -> list[str]:
    """The command that built the dataset; run again, it writes only what is missing."""
    return [sys.executable, "-m", "enertrack.cli.main", "simulate", "--nodes", str(NODES), "--interval",
            str(INTERVAL_S), "--backfill", str(DAYS), "--count", "0"]


def top_up(db: Path) -> None:
    """Bring the dataset to the present with the simulator's own backfill."""
    env = {**os.environ, "ENERTRACK_TSDB_PATH": str(db), "PYTHONPATH": str(REPO)}
    began = time.perf_counter()
    done = subprocess.run(dataset_command(), cwd=REPO, env=env, check=True, capture_output=True, text=True)
    print(f"top-up: {done.stdout.strip().splitlines()[-1]} ({time.perf_counter() - began:.1f} s)")


def last_months(local_today: date, count: int) -> tuple[date, date]:
    """[first day of the month count - 1 months ago, first day of next month)."""
    after = local_today.year * 12 + local_today.month  # months since year 0 of next month, 0-based
    first = after - count
    return date(first // 12, first % 12 + 1, 1), date(after // 12, after % 12 + 1, 1)


# -- naive pandas over the raw readings -------------------------------------------------------


def raw(db: Path, nodes: Sequence[str], start: int, end: int,
        columns: Sequence[str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each node's raw readings in [start, end), oldest first, read with pandas."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for node in nodes:
            frame = pd.read_sql_query(
                f"SELECT r.ts, {', '.join('r.' + c for c in columns)} FROM readings r"
                " JOIN series s ON s.id = r.series WHERE s.node_id = ? AND r.ts >= ? AND r.ts < ? ORDER BY r.ts",
                conn, params=(node, start, end))
            yield node, frame.astype({c: "float64" for c in columns})  # None -> NaN


def quarters(node_frames: Iterator[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """kWh per node and 15-minute bucket from raw readings, by the rules of enertrack/core/energy.py."""
    parts = []
    for node, frame in node_frames:
        n = len(frame)
        points = Points(np.zeros(n, dtype=np.int64), frame["ts"].to_numpy(np.int64), frame["energy"].to_numpy(),
                        frame["power"].to_numpy(), np.full(n, float(INTERVAL_S)), np.full(n, DEFAULT_MAX_POWER_W))
        _series, bucket, kwh = bucket_energy(points)
        parts.append(pd.DataFrame({"node_id": node, "quarter": bucket, "energy_kwh": kwh}))
    return pd.concat(parts, ignore_index=True)


def naive_energy(db: Path, nodes: Sequence[str], marks: Sequence[int], tz: str) -> pd.DataFrame:
    """kWh per local period (rows) and node (columns), like analytics.energy_table, from raw readings."""
    bounds = np.asarray(marks, dtype=np.int64)
    frame = quarters(raw(db, nodes, int(bounds[0]) - MARGIN_S, int(bounds[-1]) + MARGIN_S, ("energy", "power")))
    frame = frame[(frame["quarter"] >= bounds[0]) & (frame["quarter"] < bounds[-1])]
    frame["period_start"] = bounds[np.searchsorted(bounds, frame["quarter"].to_numpy(), side="right") - 1]
    table = (frame.pivot_table(index="period_start", columns="node_id", values="energy_kwh", aggfunc="sum")
             .reindex(index=bounds[:-1], columns=list(nodes)).fillna(0.0))
    table.index = pd.to_datetime(table.index, unit="s", utc=True).tz_convert(tz)
    return table


def naive_analysis(db: Path, nodes: Sequence[str], marks: Sequence[int], tz: str,
                   before: Sequence[int]) -> tuple[pd.DataFrame, float]:
    """The analysis page's bars and its previous-range total."""
    return naive_energy(db, nodes, marks, tz), float(naive_energy(db, nodes, before, tz).to_numpy().sum())


@dataclass(frozen=True, slots=True)
class PanelAnswer:
    """What the panel shows, computed the naive way."""

    statuses: dict[str, NodeStatus]
    kpis: dict[str, float | None]
    total_power: float | None
    energy_today: float


def naive_panel(db: Path, nodes: Sequence[str], tz: str, now: float) -> PanelAnswer:
    """Today's raw readings of every node: the latest values, the statuses, the KPIs, today's kWh."""
    start = day_start(today(tz, now), ZoneInfo(tz))
    frames = dict(raw(db, nodes, start - MARGIN_S, int(now) + 1, NAMES))
    latest = {node: frame.iloc[-1] for node, frame in frames.items() if len(frame)}
    statuses = {node: node_status(now, int(latest[node]["ts"]) if node in latest else None, INTERVAL_S)
                for node in nodes}
    active = pd.DataFrame([latest[n] for n in nodes if statuses[n] is NodeStatus.ACTIVE], columns=["ts", *NAMES])
    energy = quarters(iter(frames.items()))
    return PanelAnswer(
        statuses,
        {name: (float(active[name].mean()) if active[name].notna().any() else None) for name in KPI_NAMES},
        float(active["power"].sum()) if active["power"].notna().any() else None,
        float(energy.loc[energy["quarter"] >= start, "energy_kwh"].sum()),
    )


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    what: str
    callback: list[float]
    naive: list[float]
    response_bytes: int
    check: str

    def line(self) -> str:
        ratio = statistics.median(self.naive) / statistics.median(self.callback)
        times = f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"
        flag = "ok" if p95(self.callback) <= TARGET_P95_S else "MISSES the 150 ms target"
        return (f"| {self.what} | {statistics.median(self.callback) * 1000:.1f} ms | {p95(self.callback) * 1000:.1f} ms"
                f" | {statistics.median(self.naive) * 1000:,.0f} ms | {times} | {self.response_bytes / 1e3:,.0f} kB"
                f" | {self.check} | {flag} |")


def measure(what: str, call: Callable[[], Any], naive: Callable[[], Any], compare: Callable[[Any], str],
            calls: int, naive_calls: int) -> Row:
    """Time the callback and its naive counterpart; check the naive answer against the service's."""
    callback = timed(call, calls)
    size = len(call().data)
    answers: list[Any] = []
    pandas = timed(lambda: answers.append(naive()), naive_calls)
    row = Row(what, callback, pandas, size, compare(answers[-1]))
    print(f"{what}: callback {percentiles(callback)} | naive pandas {percentiles(pandas)} | {row.check}"
          f" | load {load_average():.2f}", flush=True)
    return row


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DATASET, help="the dashboard dataset (SQLite store file)")
    parser.add_argument("--calls", type=int, default=20, help="timed calls of each callback (after a warm-up)")
    parser.add_argument("--naive-calls", type=int, default=3, help="timed calls of each naive aggregation")
    parser.add_argument("--node", default="demo-01", help="the node whose dashboard is drawn")
    parser.add_argument("--no-top-up", action="store_true", help="do not bring the dataset to the present first")
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db} does not exist: build it with "
                 f"ENERTRACK_TSDB_PATH={args.db} enertrack simulate --nodes {NODES} --interval {INTERVAL_S}"
                 f" --backfill {DAYS} --count 0")
    print(f"$ python {' '.join(sys.argv)}  ({time.strftime('%Y-%m-%d %H:%M %Z')})", flush=True)
    if not args.no_top_up:
        top_up(args.db)
    ids = node_ids(NODES)
    store = SQLiteStore(args.db)

    def register(_services: AppServices, settings: Settings, _uid: int) -> None:
        register_nodes(settings, "bench", make_fleet(SEED, ids), INTERVAL_S, None)  # adopt the stored dataset

    loads = [load_average()]
    rows: list[Row] = []
    with logged_in(store, TZ, register) as bench:
        with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
            readings = conn.execute("SELECT sum(voltage_n) FROM rollup_1d").fetchone()[0]
        print(f"{args.db}: {readings:,} readings of {NODES} nodes · user timezone {TZ} · {args.calls} calls"
              f" after a warm-up, {args.naive_calls} naive · load {loads[0]:.2f}", flush=True)
        rows.append(panel(bench, args, ids, first=True))
        rows.append(panel(bench, args, ids, first=False))
        loads.append(load_average())
        for preset in ("30d", "1y"):
            rows.append(node_range(bench, args, preset))
        loads.append(load_average())
        local_today = today(TZ)
        rows.append(analysis(bench, args, ids, "month", *last_months(local_today, 12), "12 months by month"))
        rows.append(analysis(bench, args, ids, "day", *default_range("day", local_today), "30 days by day"))
        loads.append(load_average())
    store.close()
    print(f"\nload average during the run: {min(loads):.1f}–{max(loads):.1f}")
    print("| callback | p50 | p95 | naive pandas p50 | naive / callback | response | same answer | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for row in rows:
        print(row.line())


def panel(bench: Bench, args: argparse.Namespace, ids: list[str], *, first: bool) -> Row:
    """The panel's refresh: the first render (no rows on the page yet) or a tick with the 50 rows shown."""
    fragment = "panel-updated.children"
    rows = bench.dash.on_page(fragment, "node", [] if first else ids)
    rebuilt = "panel-nodes-body" in bench.call(fragment, [1, "all"], pattern_ids=rows).get_json()["response"]
    assert rebuilt == first, "a tick with the same rows on the page must not rebuild them"

    def compare(answer: PanelAnswer) -> str:
        with bench.services.read() as db:
            shown = overview(db, bench.services.store, bench.user_id, TZ, time.time())
        same = (close(shown.energy_today, answer.energy_today)
                and [n.status for n in shown.nodes] == [answer.statuses[n] for n in ids])
        active = sum(n.status is NodeStatus.ACTIVE for n in shown.nodes)
        return f"{'yes' if same else 'NO'}: {shown.energy_today:,.1f} kWh today, {active} active"

    return measure("panel refresh, " + ("first render" if first else "tick"),
                   lambda: bench.call(fragment, [1, "all"], pattern_ids=rows),
                   lambda: naive_panel(args.db, ids, TZ, time.time()), compare, args.calls, args.naive_calls)


def node_range(bench: Bench, args: argparse.Namespace, preset: str) -> Row:
    """The node page drawn for a range preset."""
    rng = preset_range(preset, time.time())
    drawn = len(bench.services.store.series(args.node, "power", rng.start, rng.chart_end, rng.max_points))

    def compare(count: int) -> str:
        same = count - len(NAMES) == drawn
        return f"{'yes' if same else 'NO'}: {drawn:,} buckets"

    days = PRESETS[preset] // 86400
    return measure(f"node {args.node}, {days} days ({rng.width // 60} min buckets)",
                   lambda: draw(bench, args.node, preset),
                   lambda: naive_node(args.db, args.node, rng.start, rng.end, rng.width), compare,
                   args.calls, args.naive_calls)


def analysis(bench: Bench, args: argparse.Namespace, ids: list[str], period: str, first: date, last: date,
             label: str) -> Row:
    """The analysis page for all nodes over [first, last)."""
    marks = boundaries(first, last, period, TZ)
    before = previous_range(period, first, last, TZ, now=time.time())  # as the page cuts a running range

    def compare(answer: tuple[pd.DataFrame, float]) -> str:
        table, previous = answer
        shown = load_energy(bench.services.store, ids, marks, TZ)
        shown_previous = previous_energy(bench.services.store, ids, before)
        gap = float(np.abs(shown.to_numpy() - table.to_numpy()).max())
        same = gap <= 1e-6 and close(previous, shown_previous)
        return f"{'yes' if same else 'NO'}: {shown.to_numpy().sum():,.0f} kWh, largest difference {gap:.1e} kWh"

    return measure(f"analysis, {label} ({first} to {last})",
                   # The page's picker names the last day shown: [first, last) ends the day before last.
                   lambda: bench.call("analysis-chart.figure", [period, first.isoformat(),
                                                               (last - timedelta(days=1)).isoformat(), None, "light",
                                                               "all"]),
                   lambda: naive_analysis(args.db, ids, marks, TZ, before), compare, args.calls, args.naive_calls)


if __name__ == "__main__":
    main()
