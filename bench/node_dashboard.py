"""Benchmark of the node dashboard's draw callback on a big store file (server-side time).

    python bench/node_dashboard.py --db /work/bench-data/bench.sqlite3 [--node node-000] [--calls 20]

Logs in through the real form, then POSTs the draw callback exactly as the browser does
(Flask test client: guard, ownership check, store queries, figures, orjson) for 30 days and
1 year ending at the node's newest reading. Also times the store part alone, and a naive
pandas aggregation of the raw readings giving the same buckets and extremes, for the ratio.
bench/dashboard.py times the same callback for the range presets, beside the other pages.
Not a test: the machine is shared, so each figure comes with the load average.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from harness import Bench, load_average, logged_in, percentiles, timed  # repo on sys.path

from enertrack.config import Settings
from enertrack.core.magnitudes import NAMES
from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.context import AppServices
from enertrack.web.services import nodes
from enertrack.web.services.node_dashboard import custom_range, load

TZ = "UTC"


def naive(db: Path, node: str, start: int, end: int, width: int) -> int:
    """The same buckets (min/max/mean) and extremes from the raw readings with pandas."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        frame = pd.read_sql_query(
            f"SELECT r.ts, {', '.join('r.' + n for n in NAMES)} FROM readings r JOIN series s ON s.id = r.series"
            " WHERE s.node_id = ? AND r.ts >= ? AND r.ts < ? ORDER BY r.ts", conn, params=(node, start, end))
    buckets = frame.groupby(frame["ts"] // width * width)[list(NAMES)].agg(["min", "max", "mean"])
    extremes = [(frame[n].idxmin(), frame[n].idxmax()) for n in NAMES]
    return len(buckets) + len(extremes)


@dataclass(frozen=True)
class Drawn:
    """The two answers to a range change: the node's name and numbers, and its six charts."""

    numbers: Any
    charts: Any

    @property
    def data(self) -> bytes:
        """Both response bodies (what crosses the wire, uncompressed)."""
        return self.numbers.data + self.charts.data

    def get_json(self) -> dict[str, Any]:
        """Both responses' outputs as one."""
        return {"response": self.numbers.get_json()["response"] | self.charts.get_json()["response"]}


def draw(bench: Bench, node: str, preset: str, start: str | None = None, end: str | None = None) -> Drawn:
    """POST the node page's two range callbacks (numbers, then charts) as the browser does when a
    range is chosen (the browser sends them at once)."""
    triggered = 2 if preset == "custom" else 1
    return Drawn(bench.call("node-missing.children", [node, preset, start, end], triggered=triggered),
                 bench.call("node-tick.disabled", [node, preset, start, end], ["light"], triggered=triggered))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="SQLite store file (read only in effect)")
    parser.add_argument("--node", default="node-000")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--naive-calls", type=int, default=3)
    args = parser.parse_args()

    store = SQLiteStore(args.db)
    newest = store.latest([args.node]).get(args.node)
    if newest is None:
        sys.exit(f"{args.node} has no readings in {args.db}")

    def add_node(services: AppServices, _settings: Settings, uid: int) -> None:
        with services.transaction() as db:
            nodes.create_node(db, uid, {"node_id": args.node, "interval_s": 60})

    with logged_in(store, TZ, add_node) as bench:
        last_day = datetime.fromtimestamp(newest.ts, UTC).date()  # the picker's last day, included
        print(f"{args.db} · node {args.node} · newest reading {datetime.fromtimestamp(newest.ts, UTC):%Y-%m-%d %H:%M}Z"
              f" · {args.calls} calls after a warm-up · load {load_average():.2f}")
        for label, days in (("30 days", 30), ("1 year", 365)):
            first = (last_day - timedelta(days=days - 1)).isoformat()  # `days` days, both ends included
            rng = custom_range(first, last_day.isoformat(), TZ)
            assert not isinstance(rng, str)

            def store_only(rng: Any = rng) -> None:
                with bench.services.read() as db:
                    load(db, store, bench.user_id, args.node, rng)

            callback = timed(lambda first=first: draw(bench, args.node, "custom", first, last_day.isoformat()),
                             args.calls)
            queries = timed(store_only, args.calls)
            pandas = timed(lambda rng=rng: naive(args.db, args.node, rng.start, rng.end, rng.width), args.naive_calls)
            size = len(draw(bench, args.node, "custom", first, last_day.isoformat()).data)
            ratio = statistics.median(pandas) / statistics.median(callback)
            print(f"draw {label:8} ({rng.width:>5} s buckets) callback {percentiles(callback)}"
                  f" | store part {percentiles(queries)} | response {size / 1e6:.2f} MB")
            print(f"     naive pandas over raw readings: {percentiles(pandas)}  ({ratio:.0f}x the callback)")
        # A live tick of the 24 h view, as if the last minute had not been drawn yet.
        state = draw(bench, args.node, "24h").get_json()["response"]["node-state"]["data"]
        state["through"] -= 60
        tick = timed(lambda: bench.call("in:node-tick", [1], [args.node, state, "24h", "light"]), args.calls)
        print(f"live tick, 24 h view, 1 minute to append: {percentiles(tick)}")
    store.close()


if __name__ == "__main__":
    main()
