"""Benchmark of the node dashboard's draw callback on a big store file (server-side time).

    python bench/node_dashboard.py --db /work/bench-data/bench.sqlite3 [--node node-000] [--calls 20]

Logs in through the real form, then POSTs the draw callback exactly as the browser does
(Flask test client: guard, ownership check, store queries, figures, orjson) for 30 days and
1 year ending at the node's newest reading. Also times the store part alone, and a naive
pandas aggregation of the raw readings giving the same buckets and extremes, for the ratio.
Not a test: the machine is shared, so each figure comes with the load average.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's enertrack, not an installed one

from enertrack import accounts, nodes  # noqa: E402
from enertrack.app import create_app  # noqa: E402
from enertrack.config import load_settings  # noqa: E402
from enertrack.db import make_engine  # noqa: E402
from enertrack.magnitudes import NAMES  # noqa: E402
from enertrack.migrate import upgrade  # noqa: E402
from enertrack.node_dashboard import custom_range, load  # noqa: E402
from enertrack.store.sqlite import SQLiteStore  # noqa: E402
from tests.dash_client import DashClient  # noqa: E402

PASSWORD = "benchmark password 123"
TZ = "UTC"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def timed(call: Callable[[], object], calls: int) -> list[float]:
    call()  # warm-up: page cache, prepared statements, imports
    samples = []
    for _ in range(calls):
        begin = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begin)
    return samples


def naive(db: Path, node: str, start: int, end: int, width: int) -> int:
    """The same buckets (min/max/mean) and extremes from the raw readings with pandas."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        frame = pd.read_sql_query(
            f"SELECT r.ts, {', '.join('r.' + n for n in NAMES)} FROM readings r JOIN series s ON s.id = r.series"
            " WHERE s.node_id = ? AND r.ts >= ? AND r.ts < ? ORDER BY r.ts", conn, params=(node, start, end))
    buckets = frame.groupby(frame["ts"] // width * width)[list(NAMES)].agg(["min", "max", "mean"])
    extremes = [(frame[n].idxmin(), frame[n].idxmax()) for n in NAMES]
    return len(buckets) + len(extremes)


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
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ENERTRACK_ENV="development", ENERTRACK_DATA_DIR=tmp, _env_file=None)
        upgrade(make_engine(settings.sqlalchemy_url))
        app = create_app(settings, store=store)
        services = app.extensions["enertrack"]
        with services.transaction() as db:
            user = accounts.create_user(db, accounts.NewAccount("bench", "bench@example.com", PASSWORD, PASSWORD,
                                                                TZ, "en"))
            uid = user.id
            nodes.create_node(db, uid, {"node_id": args.node, "interval_s": 60})
        client = app.test_client()
        dash = DashClient(client, app.extensions["dash_app"])
        client.post("/enertrack/login", data={"username": "bench", "password": PASSWORD,
                                              "csrf_token": dash.csrf_token()})
        last_day = datetime.fromtimestamp(newest.ts, UTC).date() + timedelta(days=1)
        print(f"{args.db} · node {args.node} · newest reading {datetime.fromtimestamp(newest.ts, UTC):%Y-%m-%d %H:%M}Z"
              f" · {args.calls} calls after a warm-up · load {os.getloadavg()[0]:.2f}")
        for label, days in (("30 days", 30), ("1 year", 365)):
            first = last_day - timedelta(days=days)
            rng = custom_range(first.isoformat(), last_day.isoformat(), TZ)
            assert not isinstance(rng, str)

            def draw(first: object = first) -> None:
                response = dash.call("node-missing.children", [args.node, "custom", first.isoformat(),  # type: ignore[attr-defined]
                                                                last_day.isoformat()], ["dark"], triggered=2)
                assert response.status_code == 200, response.data[:300]

            def store_only(rng: object = rng) -> None:
                with services.read() as db:
                    load(db, store, uid, args.node, rng)  # type: ignore[arg-type]

            callback = timed(draw, args.calls)
            queries = timed(store_only, args.calls)
            pandas = timed(lambda rng=rng: naive(args.db, args.node, rng.start, rng.end, rng.width),  # type: ignore[misc]
                           args.naive_calls)
            size = len(dash.call("node-missing.children", [args.node, "custom", first.isoformat(),
                                                           last_day.isoformat()], ["dark"], triggered=2).data)
            ratio = statistics.median(pandas) / statistics.median(callback)
            print(f"draw {label:8} ({rng.width:>5} s buckets) callback {percentiles(callback)}"
                  f" | store part {percentiles(queries)} | response {size / 1e6:.2f} MB")
            print(f"     naive pandas over raw readings: {percentiles(pandas)}  ({ratio:.0f}x the callback)")
        # A live tick of the 24 h view, as if the last minute had not been drawn yet.
        drawn = dash.call("node-missing.children", [args.node, "24h", None, None], ["dark"]).get_json()
        state = drawn["response"]["node-state"]["data"]
        state["through"] -= 60

        def tick() -> None:
            assert dash.call("in:node-tick", [1], [args.node, state]).status_code == 200

        print(f"live tick, 24 h view, 1 minute to append: {percentiles(timed(tick, args.calls))}")
        store.close()


if __name__ == "__main__":
    main()
