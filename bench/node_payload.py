"""What the node page's two range callbacks send: bytes raw and with brotli, x typed or as lists.

    python bench/node_payload.py [--db /work/bench-data/network/timeseries.sqlite3] [--node demo-01] [--calls 10]

Logs in through the real form (harness.py) as a user owning the node, POSTs `draw` (name and
numbers) and `draw_charts` (six figures) as the browser does for the 24 h, 1 h and 7 day presets,
and prints each answer's size raw and with brotli at the app's level (static.py), with x as
the typed arrays the page sends and, for comparison, as lists of whole milliseconds; then the
time of each callback. Not a test: the machine is shared, each line says the load.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

import brotli
import numpy as np
from harness import Bench, load_average, logged_in, percentiles, timed  # repo on sys.path

from enertrack.store.sqlite.store import SQLiteStore
from enertrack.web.context import AppServices
from enertrack.web.services import nodes

BROTLI_LEVEL = 4  # enertrack/web/static.py: COMPRESS_BR_LEVEL


def x_as_lists(response: dict[str, Any]) -> dict[str, Any]:
    """The same answer with every typed x array written as a list of whole milliseconds."""
    out = json.loads(json.dumps(response))
    for value in out.values():
        for trace in (value.get("figure") or {}).get("data", []):
            if isinstance(trace.get("x"), dict):
                trace["x"] = np.frombuffer(base64.b64decode(trace["x"]["bdata"]), "<f8").astype(np.int64).tolist()
    return out


def size(response: dict[str, Any]) -> str:
    """'raw kB / brotli kB' of a callback answer as Dash sends it."""
    body = json.dumps({"multi": True, "response": response}, separators=(",", ":")).encode()
    return f"{len(body) / 1e3:,.1f} kB / {len(brotli.compress(body, quality=BROTLI_LEVEL)) / 1e3:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/work/bench-data/network/timeseries.sqlite3"))
    parser.add_argument("--node", default="demo-01")
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    store = SQLiteStore(args.db)

    def add_node(services: AppServices, _settings: object, uid: int) -> None:
        with services.transaction() as db:
            nodes.create_node(db, uid, {"node_id": args.node, "interval_s": 10})

    def numbers(bench: Bench, preset: str) -> Any:
        return bench.call("node-missing.children", [args.node, preset, None, None], triggered=1)

    def charts(bench: Bench, preset: str) -> Any:
        return bench.call("node-tick.disabled", [args.node, preset, None, None], ["light"], triggered=1)

    with logged_in(store, "Europe/Madrid", add_node) as bench:
        print(f"node {args.node} · raw / brotli {BROTLI_LEVEL} · load {load_average():.1f}")
        for preset in ("24h", "1h", "7d"):
            drawn = charts(bench, preset).get_json()["response"]
            print(f"{preset:>3}: numbers {size(numbers(bench, preset).get_json()['response'])}"
                  f" · charts, x typed {size(drawn)} · charts, x as lists {size(x_as_lists(drawn))}")
        for name, call in (("numbers (draw)", numbers), ("charts (draw_charts)", charts)):
            samples = timed(lambda call=call: call(bench, "24h"), args.calls)
            print(f"24h {name}: {percentiles(samples)} · load {load_average():.1f}")
    store.close()


if __name__ == "__main__":
    main()
