"""What InfluxStore.energy() makes InfluxDB send, and what parsing it costs here (no InfluxDB needed).

    python bench/influx_energy_payload.py [--nodes 50]

For the analysis page's and the panel's real requests (50 nodes, Europe/Madrid and
Asia/Kathmandu calendars) it builds the annotated CSV InfluxDB answers to each way of asking
(same columns, annotations and row count; values are random), serves it from the fake
InfluxDB of the tests, and times influxdb-client parsing it, plus energy() end to end for the
chosen query:

- raw: the previous code, every energy/power reading of the range (pivoted, 60 s readings),
  measured for ONE node and multiplied by the node count;
- window: the ledger summed by aggregateWindow(every: 1h when every boundary is a whole UTC
  hour, else 15m), periods added up in pandas;
- runs: the ledger summed by one aggregateWindow(every: period, offset: ...) per run of equal
  periods (what InfluxStore does): one row per node and period.

Results and the command go in docs/influxdb.md ("What energy() asks for"). Not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's enertrack, not an installed one

from enertrack.core.calendar import boundaries  # noqa: E402
from enertrack.store.influx.ledger import runs  # noqa: E402
from enertrack.store.influx.store import InfluxStore  # noqa: E402
from tests.fake_influx import _block, _rfc3339, csv_answer, serve  # noqa: E402

QUERY = "/api/v2/query"


def midnights(zone: str, first: date, days: int) -> list[int]:
    tz = ZoneInfo(zone)
    return [int(datetime.combine(first + timedelta(days=d), datetime.min.time(), tz).timestamp())
            for d in range(days + 1)]


def scenarios() -> dict[str, list[int]]:
    """The requests the pages make: today, 30 days by day, a year by month/day, a month by hour."""
    out = {
        "panel: energy today (Madrid)": midnights("Europe/Madrid", date(2026, 6, 1), 1),
        "30 days by day (Madrid)": midnights("Europe/Madrid", date(2026, 3, 10), 30),
        "year by day (Madrid)": midnights("Europe/Madrid", date(2026, 1, 1), 365),
        "year by day (Kathmandu)": midnights("Asia/Kathmandu", date(2026, 1, 1), 365),
    }
    month_hours = midnights("Europe/Madrid", date(2026, 3, 1), 31)
    out["month by hour (Madrid)"] = list(range(month_hours[0], month_hours[-1] + 1, 3600))
    out["year by month (Madrid)"] = boundaries(date(2026, 1, 1), date(2027, 1, 1), "month", "Europe/Madrid")
    return out


def window_rows(bounds: list[int]) -> tuple[int, int]:
    """(windows per node, window width) for the aggregateWindow(15m | 1h) way of asking."""
    width = 3600 if all(b % 3600 == 0 for b in bounds) else 900
    return (bounds[-1] - bounds[0]) // width, width


def sums_csv(nodes: int, starts: list[int], rng: random.Random) -> str:
    """The answer to a ledger sum query: one row per node and window start."""
    rows = [[_rfc3339(ts), rng.uniform(0, 50), f"node-{n:02d}"] for n in range(nodes) for ts in starts]
    columns = [("_time", "dateTime:RFC3339", False), ("_value", "double", False), ("node_id", "string", True)]
    return _block("run0", columns, rows, 0)


def raw_csv(start: int, stop: int, rng: random.Random) -> str:
    """The previous code's answer for one node: pivoted energy/power rows every 60 s."""
    columns = [("_time", "dateTime:RFC3339", False), ("node_id", "string", True), ("energy", "double", False),
               ("power", "double", False), ("rule_interval_s", "double", False),
               ("rule_max_power_w", "double", False)]
    rows = [[_rfc3339(ts), "node-00", round(1000 + (ts - start) / 3600, 6), round(rng.uniform(0, 3000), 1), 60.0,
             30000.0] for ts in range(start, stop, 60)]
    return _block("_result", columns, rows, 0)


def parse_seconds(url: str, text: str) -> float:
    """Seconds influxdb-client takes to stream every record of the answer."""
    store = InfluxStore(url, "t", "o", "b")
    started = time.perf_counter()
    for _ in store._query_api.query_stream("x", org="o"):
        pass
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(1)
    fake_gen = serve()
    fake = next(fake_gen)
    fake.answer(QUERY, csv_answer(sums_csv(1, [0], rng)))
    InfluxStore(fake.url, "t", "o", "b").energy(["node-00"], [0, 900])  # imports (pandas) out of the timing
    print(f"# {args.nodes} nodes, load {os.getloadavg()[0]:.2f}")
    print(f"{'request':32} {'way':7} {'queries':>7} {'rows':>10} {'bytes':>13} {'parse ms':>10} {'energy() ms':>11}")
    for name, bounds in scenarios().items():
        periods = runs(bounds)
        answers = {
            "runs": (-(-len(periods) // 32), sums_csv(args.nodes, bounds[:-1], rng)),
            "window": (1, sums_csv(args.nodes, list(range(bounds[0], bounds[-1], window_rows(bounds)[1])), rng)),
        }
        if bounds[-1] - bounds[0] <= 40 * 86_400:  # a year of raw rows for 1 node takes a while to build
            answers["raw"] = (args.nodes, raw_csv(bounds[0], bounds[-1], rng))
        else:
            answers["raw"] = (args.nodes, raw_csv(bounds[0], bounds[0] + 30 * 86_400, rng))
        for way, (queries, text) in answers.items():
            fake.requests.clear()
            fake._answers.clear()
            fake.answer(QUERY, csv_answer(text))
            rows = text.count("\n") - 4
            size = len(text.encode()) + rows  # CRLF line ends on the wire
            seconds = parse_seconds(fake.url, text)
            scale = 1
            if way == "raw":  # one node measured; the span possibly a month of a year
                scale = args.nodes * (bounds[-1] - bounds[0]) / (rows * 60)
            total = ""
            if way == "runs":
                store = InfluxStore(fake.url, "t", "o", "b")
                started = time.perf_counter()
                store.energy([f"node-{n:02d}" for n in range(args.nodes)], bounds)
                total = f"{(time.perf_counter() - started) * 1000:11.1f}"
                store.close()
            print(f"{name:32} {way:7} {queries:7d} {int(rows * scale):10d} {int(size * scale):13,d} "
                  f"{seconds * scale * 1000:10.1f} {total:>11}")
    next(fake_gen, None)


if __name__ == "__main__":
    main()
