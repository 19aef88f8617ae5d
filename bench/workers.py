"""The dashboards' callbacks under concurrent users: one gunicorn worker with threads against several workers.

    python bench/workers.py [--data-dir /work/bench-data/network] [--clients 1,4,8,16] [--seconds 20]

`enertrack serve` runs one worker with 8 threads by default, because the login limits' counters
live in that process (memory://); more workers need a shared store (Redis). This measures
whether that default costs anything: the same data as bench/network.py (the demo's 5 nodes
every 10 s, 90 days), served as `enertrack serve` serves it, with N client processes each
logged in as the bench user and calling, back to back with no pause (a worst case: a real
panel ticks every few seconds), the callbacks the dashboard benchmark times: the panel's
refresh tick, the node page's 24-hour draw and the analysis by day over 30 days. Each
configuration reports requests per second and the p50/p95 latency of each callback, and the
load average. Not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests
from harness import load_average, p95  # puts the repo on sys.path
from network import NODE, NODES, PASSWORD, USER, ensure_data, served

from enertrack.web.app import create_app
from tests.conftest import make_settings
from tests.dash_client import UPDATE, DashClient

# (label, workers, threads, rate-limit store): the default, then the same 8 threads over more processes.
CONFIGS = [("1 worker x 8 threads (default, memory://)", 1, 8, "memory://"),
           ("2 workers x 4 threads (Redis)", 2, 4, "redis://127.0.0.1:6379"),
           ("4 workers x 2 threads (Redis)", 4, 2, "redis://127.0.0.1:6379")]
CALLS = ("panel tick", "node 24 h", "analysis 30 days")


def bodies(dash: DashClient) -> dict[str, dict[str, Any]]:
    """The request body of each timed callback (and of the CSRF token's), from the app's own callback map."""
    panel = "panel-updated.children"
    node_ids = [f"demo-{n:02d}" for n in range(1, NODES + 1)]
    last = date.today()
    csrf_id = {"form": "login", "type": "csrf"}
    return {
        "csrf": dash.body(dash.spec('"type":"csrf"'), [csrf_id], pattern_ids={0: [csrf_id], -1: [csrf_id]}),
        "panel tick": dash.body(dash.spec(panel), [1, None], pattern_ids=dash.on_page(panel, "node", node_ids)),
        # as bench/node_dashboard.py draws it: the preset chosen (the default 24 hours)
        "node 24 h": dash.body(dash.spec("node-missing.children"), [NODE, "24h", None, None], ["light"], triggered=1),
        "analysis 30 days": dash.body(dash.spec("analysis-chart.figure"),
                                      ["day", (last - timedelta(days=29)).isoformat(), last.isoformat(), None,
                                       "light", None]),
    }


def post(session: requests.Session, base: str, body: dict[str, Any]) -> requests.Response:
    """POST a callback body as the browser does."""
    return session.post(base + UPDATE.removeprefix("/enertrack/"), json=body, timeout=60)


def client(base: str, templates: dict[str, dict[str, Any]], seconds: float, results: Any) -> None:
    """One user: log in through the form, then call the three callbacks in turn until the time is up."""
    session = requests.Session()
    answer = post(session, base, templates["csrf"])
    token = str(next(iter(answer.json()["response"].values()))["value"])
    answer = session.post(base + "login", data={"username": USER, "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False, timeout=60)
    assert answer.status_code in (302, 303), answer.text[:200]
    samples: dict[str, list[float]] = {name: [] for name in CALLS}
    errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name in CALLS:
            began = time.perf_counter()
            response = post(session, base, templates[name])
            if response.status_code == 200:
                samples[name].append(time.perf_counter() - began)
            else:
                errors += 1
    results.put((samples, errors))


def run(base: str, templates: dict[str, dict[str, Any]], clients: int, seconds: float) -> str:
    """clients processes for seconds; a table row."""
    results: Any = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(base, templates, seconds, results)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    gathered = [results.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    merged = {name: [s for samples, _ in gathered for s in samples[name]] for name in CALLS}
    errors = sum(e for _, e in gathered)
    total = sum(len(v) for v in merged.values())
    cells = " | ".join(f"{statistics.median(merged[n]) * 1000:,.0f} / {p95(merged[n]) * 1000:,.0f}"
                       if merged[n] else "—" for n in CALLS)
    return f"| {clients} | {total / seconds:,.1f} | {cells} | {errors} | {load_average():.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data/network"))
    parser.add_argument("--clients", default="1,4,8,16")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    env = ensure_data(args.data_dir)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # the callback map only: any app has the same one
        dash = DashClient(None, create_app(make_settings(Path(tmp))).extensions["dash_app"])  # type: ignore[arg-type]
        templates = bodies(dash)
    print(f"# {NODE} and {NODES - 1} more nodes; {args.seconds:.0f} s per row; load before: {load_average():.2f}")
    for label, workers, threads, storage in CONFIGS:
        print(f"\n{label}\n")
        print("| clients | requests/s | " + " | ".join(f"{n} p50 / p95 ms" for n in CALLS) + " | errors | load |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        log_file = args.data_dir / "workers-bench.log"
        # N clients log in from one address at once: lift the per-address login limit
        with log_file.open("a") as log, served({**env, "RATELIMIT_STORAGE_URI": storage,
                                                "ENERTRACK_LOGIN_LIMIT_IP": "1000 per minute"},
                                               workers, threads, log) as base:
            for clients in (int(c) for c in args.clients.split(",")):
                print(run(base, templates, clients, args.seconds), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("ENERTRACK_ENV", "development")
    main()
