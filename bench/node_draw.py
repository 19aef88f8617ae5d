"""The node page's draw callback for the 24 h, 30 day and 1 year presets: time and response size.

    python bench/node_draw.py [--db /work/bench-data/dashboard.sqlite3] [--node demo-01] [--calls 10]

Logs in through the real form (harness.py) as a user owning the dataset's 50 nodes, then POSTs
the draw callback as the browser does. Not a test: the machine is shared, each line says the load.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import load_average, logged_in, percentiles, timed  # repo on sys.path
from node_dashboard import draw

from enertrack.cli.simulate import register_nodes
from enertrack.simulation.fleet import make_fleet, node_ids
from enertrack.store.sqlite.store import SQLiteStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/work/bench-data/dashboard.sqlite3"))
    parser.add_argument("--node", default="demo-01")
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    store = SQLiteStore(args.db)
    ids = node_ids(50)

    def register(_services: object, settings: object, _uid: int) -> None:
        register_nodes(settings, "bench", make_fleet(42, ids), 60, None)  # type: ignore[arg-type]

    with logged_in(store, "Europe/Madrid", register) as bench:
        for preset in ("24h", "30d", "1y"):
            samples = timed(lambda preset=preset: draw(bench, args.node, preset), args.calls)
            size = len(draw(bench, args.node, preset).data)
            print(f"node {preset}: {percentiles(samples)} · response {size / 1e3:,.0f} kB · load {load_average():.1f}")
    store.close()


if __name__ == "__main__":
    main()
