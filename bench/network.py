"""Page loads over an emulated network, in real Chromium against `enertrack serve`.

    python bench/network.py [--data-dir /work/bench-data/network] [--profiles fast,slow] [--runs 3]

The data are the demo's: 5 simulated nodes every 10 s with 90 days of history (built once with
`enertrack simulate ... --backfill 90 --register-user bench`, then topped up to the present),
in a users database and a SQLite store of their own under --data-dir. The app runs as the
README runs it (`enertrack serve`, one worker, no proxy in front), and headless Chromium loads
it through DevTools' network emulation (Network.emulateNetworkConditions):

- fast: 10 Mbit/s down and up, 40 ms round trip;
- slow: 1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip (Lighthouse's mobile profile, the
  "slow 3G" of the issue);
- loopback: no emulation, to compare with the other benchmarks.

For each page (login, panel, a node page at its default 24 hours, analysis) a cold load
(browser cache cleared, session kept) and then warm loads (the same URL again, cache kept)
are timed from navigation start until the page has settled: Dash has no callback pending or
running, and every chart on the page has drawn its data. "First" is when the node page's
numbers are there (the current voltage), whether or not its charts are drawn yet. Bytes are what crossed the wire
(Resource Timing's transferSize, headers included); "static" counts requests for files
(scripts, stylesheets, fonts, images) that went to the network instead of the cache.
Not a test: the machine is shared, so each figure comes with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import REPO, load_average  # repo on sys.path

from enertrack.ports import free_port

USER, PASSWORD = "bench", "kilowatt meadow 7319"
NODES, INTERVAL_S, DAYS = 5, 10, 90  # enertrack demo's fleet and history
NODE = "demo-01"
TZ = "Europe/Madrid"
PROFILES: dict[str, dict[str, float] | None] = {
    "fast": {"latency": 40, "downloadThroughput": 10e6 / 8, "uploadThroughput": 10e6 / 8},
    "slow": {"latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 0.75e6 / 8},
    "loopback": None,
}
PAGES = {"login": "login", "panel": "", "node": f"nodes/{NODE}", "analysis": "analysis"}
# What each page shows once settled, besides "no callback pending": an element, charts drawn.
READY = {"login": ("#login-submit", 0), "panel": ("#panel-today", 1), "node": ("#node-chart-power", 6),
         "analysis": ("#analysis-chart", 1)}
# What a page shows first, timed on its own: the node page's numbers (the current voltage).
FIRST = {"node": "#node-stats-voltage .node-stat-current"}
PANEL_CHARTS_KEY = "panel"

SETTLED_JS = """
const [selector, charts, first] = arguments;
const now = performance.now();
const shown = first && document.querySelector(first) ? now : null;
if (document.readyState !== 'complete' || !window.store || !document.querySelector(selector)) return [shown, null];
const state = window.store.getState();
if (state.isLoading) return [shown, null];
const cbs = state.callbacks || {};
for (const key of ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']) {
  if (cbs[key] && cbs[key].length) return [shown, null];
}
const drawn = [...document.querySelectorAll('.js-plotly-plot')].filter(
  gd => gd._fullLayout && gd._fullData && gd._fullData.some(t => (t.x && t.x.length) || (t.y && t.y.length)));
if (drawn.length < charts) return [shown, null];
return [shown, now];
"""
TRAFFIC_JS = """
const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
return entries.map(e => ({name: e.name, type: e.initiatorType || 'navigation', transfer: e.transferSize,
                          body: e.decodedBodySize}));
"""
STATIC = {"script", "link", "css", "img", "other", "font"}


@dataclass
class Load:
    """One page load: milliseconds to settled, bytes over the wire, requests, static requests not cached,
    and milliseconds until its FIRST element was there (None for pages without one)."""

    ms: float
    bytes: int
    requests: int
    static_fetched: list[str]
    first_ms: float | None = None


def ensure_data(data_dir: Path) -> dict[str, str]:
    """The demo's users database and store under data_dir, topped up to now; the env to serve them."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(data_dir),
           "ENERTRACK_TSDB_PATH": str(data_dir / "timeseries.sqlite3"), "ENERTRACK_STORE": "sqlite",
           "DATABASE_URL": f"sqlite:///{data_dir / 'enertrack.sqlite3'}", "PYTHONPATH": str(REPO),
           "ENERTRACK_DEFAULT_TIMEZONE": TZ}
    cli = [sys.executable, "-m", "enertrack.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    marker = data_dir / "user-created"
    if not marker.exists():
        subprocess.run([*cli, "user", "create", "--username", USER, "--email", "bench@example.com", "--password",
                        PASSWORD, "--timezone", TZ, "--language", "es"], env=env, check=True, capture_output=True)
        marker.touch()
    began = time.perf_counter()
    done = subprocess.run([*cli, "simulate", "--nodes", str(NODES), "--interval", str(INTERVAL_S),
                           "--backfill", str(DAYS), "--count", "0", "--register-user", USER, "--no-broker"],
                          env=env, check=True, capture_output=True, text=True)
    print(f"data: {data_dir} · {done.stdout.strip().splitlines()[-1]} ({time.perf_counter() - began:.1f} s)")
    return env


@contextmanager
def served(env: dict[str, str], workers: int = 1, threads: int | None = None, log: Any = None) -> Iterator[str]:
    """`enertrack serve` (one worker by default, as the demo runs it) on a free loopback port; its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "enertrack.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-access-log"]
    process = subprocess.Popen(command + (["--threads", str(threads)] if threads else []), env=env, stderr=log)
    base = f"http://127.0.0.1:{port}/enertrack/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "login", timeout=2):  # noqa: S310 - our loopback URL
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("enertrack serve did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def chromium(lang: str) -> Any:
    """Headless Debian Chromium through its chromedriver, in the given interface language."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium", path="/usr/bin") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                f"--lang={lang}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver", path="/usr/bin") or "chromedriver"),
                              options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


def emulate(driver: Any, profile: dict[str, float] | None) -> None:
    """Throttle every request of the browser (or lift the throttling)."""
    conditions = profile or {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, **conditions})


def load(driver: Any, url: str, page: str, timeout: float = 120) -> Load:
    """Navigate to url and wait until the page has settled; what it cost."""
    selector, charts = READY[page]
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + timeout
    settled = first = None
    while settled is None:
        if time.monotonic() > deadline:  # e.g. dcc.Graph gives up on plotly.js after 30 s
            print(f"{url} did not settle in {timeout} s", flush=True)
            settled = float("inf")
            break
        time.sleep(0.01)
        shown, settled = driver.execute_script(SETTLED_JS, selector, charts, FIRST.get(page))
        first = first if first is not None else shown
    traffic = driver.execute_script(TRAFFIC_JS)
    fetched = [e["name"].rsplit("/", 1)[-1][:60] for e in traffic
               if e["type"] in STATIC and e["transfer"] > 0]
    return Load(float(settled), sum(e["transfer"] for e in traffic), len(traffic), fetched, first)


def log_in(driver: Any, base: str) -> None:
    """Log in through the form (Flask-Login binds the session to this browser)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "login")
    wait = WebDriverWait(driver, 60)
    wait.until(EC.element_to_be_clickable((By.ID, "login-username"))).send_keys(USER)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait.until(EC.url_to_be(base))


def log_out(driver: Any, base: str) -> None:
    driver.delete_all_cookies()


def run_profile(driver: Any, base: str, name: str, runs: int) -> list[str]:
    """Cold then warm loads of every page under one network profile; table rows."""
    emulate(driver, PROFILES[name])
    rows = []
    for page, path in PAGES.items():
        if page == "login":
            log_out(driver, base)
        cold: list[Load] = []
        warm: list[Load] = []
        for _ in range(runs):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            cold.append(load(driver, base + path, page))
            warm.append(load(driver, base + path, page))
            warm.append(load(driver, base + path, page))
        if page == "login":
            emulate(driver, None)
            log_in(driver, base)
            emulate(driver, PROFILES[name])
        rows.append(row(name, page, "cold", cold))
        rows.append(row(name, page, "warm", warm))
        print(rows[-2], "\n" + rows[-1], f"(load {load_average():.2f})", flush=True)
    return rows


def _ms(value: float) -> str:
    return "did not settle" if value == float("inf") else f"{value:,.0f} ms"


def row(profile: str, page: str, kind: str, loads: list[Load]) -> str:
    """A markdown table row: median time and bytes, requests, static files not taken from the cache."""
    fetched = sorted({name for one in loads for name in one.static_fetched})
    static = statistics.median(len(one.static_fetched) for one in loads)
    listed = ", ".join(fetched[:4]) + (" …" if len(fetched) > 4 else "")
    firsts = [one.first_ms for one in loads if one.first_ms is not None]
    first = _ms(statistics.median(firsts)) if firsts else "—"
    return (f"| {profile} | {page} | {kind} | {first} | {_ms(statistics.median(one.ms for one in loads))}"
            f" | {_ms(max(one.ms for one in loads))} | {statistics.median(one.bytes for one in loads) / 1e3:,.1f} kB"
            f" | {statistics.median(one.requests for one in loads):.0f} | {static:.0f} {listed} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data/network"))
    parser.add_argument("--profiles", default="fast,slow,loopback", help="comma-separated: " + ", ".join(PROFILES))
    parser.add_argument("--runs", type=int, default=3, help="cold loads per page (each followed by two warm ones)")
    parser.add_argument("--lang", default="es", help="the browser's language")
    args = parser.parse_args()
    print(f"$ python {' '.join(sys.argv)}  ({time.strftime('%Y-%m-%d %H:%M %Z')}) · load {load_average():.2f}")
    env = ensure_data(args.data_dir)
    rows: list[str] = []
    with served(env) as base:
        driver = chromium(args.lang)
        try:
            for name in args.profiles.split(","):
                rows += run_profile(driver, base, name, args.runs)
        finally:
            driver.quit()
    print(f"\nload average at the end: {load_average():.2f}")
    print("| network | page | load | p50 to first | p50 to settled | max | bytes (p50) | requests"
          " | static requests not cached |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
