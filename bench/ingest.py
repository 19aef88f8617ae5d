"""Ingest benchmark: publishers -> a private Mosquitto (the shipped template) -> consumer, on loopback.

Runs, in one go and on the same broker:
1. a bare paho subscriber that only runs json.loads (the yardstick), and
2. the real daemon (`python ingest.py`, a subprocess) writing to a fresh SQLiteStore,
each fed the same number of QoS 1 messages by publisher processes that wait for every
PUBACK. Reports sustained messages/s, messages lost, the daemon's peak RSS and the ratio.

    .venv/bin/python bench/ingest.py [--messages 200000] [--nodes 20] [--publishers 2] [--no-tls]

Not a test: numbers go to docs/performance.md ("Ingest") with the command that made them.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from tests.ingest_process import IngestProcess, make_users_db  # noqa: E402
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker  # noqa: E402

BASE_TS = 1_700_000_000
PROFILE_FLAGS = os.environ.get("BENCH_PY_SPY_FLAGS", "").split()  # e.g. "--gil": only the thread holding the GIL


def node_name(i: int) -> str:
    return f"bench-{i:03d}"


def payload(ts: int, i: int) -> bytes:
    """A realistic ~110-byte reading."""
    return (f'{{"ts": {ts}, "v": {229 + (i % 30) / 10:.1f}, "i": {1 + (i % 97) / 100:.2f}, '
            f'"p": {200 + i % 500:.1f}, "e": {1000 + i / 1000:.3f}, "pf": 0.95, "f": 50.01}}').encode()


def window_counts(total: int) -> tuple[int, int]:
    """The counts that open and close the sustained window: 10 % and 90 % of the messages."""
    return math.ceil(total * 0.1), math.ceil(total * 0.9)


def sustained_rate(samples: list[tuple[float, int]], total: int, end: float) -> float:
    """Messages/s from the first (time, count) sample at 10 % of total to the first at 90 %.

    The steady middle of a run, free of start and end effects; the same measure for the bare
    subscriber and the daemon, so their ratio compares like with like. A run that never reaches
    90 % (messages lost) ends at its last sample, at `end`.
    """
    lo_n, hi_n = window_counts(total)
    lo_t, lo_c = next((t, c) for t, c in samples if c >= lo_n)
    hi_t, hi_c = next(((t, c) for t, c in samples if c >= hi_n), (end, samples[-1][1]))
    return (hi_c - lo_c) / max(hi_t - lo_t, 1e-9)


def publisher(
    broker_env: dict[str, str], ca: str | None, nodes: list[str], per_node: int, passwords: dict[str, str]
) -> None:
    """One process: a connection per node, round-robin QoS 1 publishing, waits for every PUBACK."""
    import ssl

    clients = []
    for node in nodes:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{node}", protocol=mqtt.MQTTv311)
        c.username_pw_set(node, passwords[node])
        if ca:
            c.tls_set_context(ssl.create_default_context(cafile=ca))
        c.max_inflight_messages_set(200)
        c.max_queued_messages_set(0)
        c.connect("127.0.0.1", int(broker_env["PUERTO_MQTTS"]))
        c.loop_start()
        clients.append(c)
    time.sleep(0.5)
    pending = []
    for i in range(per_node):
        for node, c in zip(nodes, clients, strict=True):
            pending.append(c.publish(f"enertrack/{node}/telemetry", payload(BASE_TS + i, i), qos=1))
        if len(pending) > 4000:  # keep memory flat; paho queues beyond its inflight window
            for info in pending[:2000]:
                info.wait_for_publish(60)
            pending = pending[2000:]
    for info in pending:
        info.wait_for_publish(120)
    for c in clients:
        c.disconnect()
        c.loop_stop()


def bare_subscriber(port: int, ca: str | None, total: int, ready: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """The yardstick: QoS 1, paho acks automatically, json.loads and nothing else."""
    import ssl

    count = 0
    first = last = 0.0
    lo_n, hi_n = window_counts(total)
    # Only the two crossings are kept, so the yardstick pays nothing per message for its measure.
    crossings: list[tuple[float, int]] = []

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count, first, last
        json.loads(msg.payload)
        now = time.monotonic()
        if count == 0:
            first = now
        count += 1
        last = now
        if count in (lo_n, hi_n):
            crossings.append((now, count))
        if count >= total:
            client.disconnect()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare", clean_session=True,
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    if ca:
        client.tls_set_context(ssl.create_default_context(cafile=ca))
    client.on_message = on_message
    client.on_connect = lambda c, _u, _f, _r, _p: (c.subscribe("enertrack/+/telemetry", 1), ready.set())
    client.connect("127.0.0.1", port)
    started_cpu = time.process_time()
    client.loop_forever()
    out.put((count, first, last, crossings, time.process_time() - started_cpu))


def publish(broker: Broker, nodes: list[str], per_node: int, publishers: int) -> float:
    """Run the publisher processes; return how long they took."""
    env = broker.settings_env()
    ca = str(broker.pki.ca_cert) if broker.tls else None
    groups = [nodes[i::publishers] for i in range(publishers)]
    started = time.monotonic()
    procs = [mp.Process(target=publisher, args=(env, ca, g, per_node, broker.users)) for g in groups]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"publisher exited {p.exitcode}")
    return time.monotonic() - started


def run_bare(broker: Broker, nodes: list[str], per_node: int, publishers: int) -> dict[str, float]:
    total = len(nodes) * per_node
    ready, out = mp.Event(), mp.Queue()
    ca = str(broker.pki.ca_cert) if broker.tls else None
    sub = mp.Process(target=bare_subscriber, args=(broker.port, ca, total, ready, out))
    sub.start()
    ready.wait(10)
    time.sleep(0.3)
    publish(broker, nodes, per_node, publishers)
    count, first, last, crossings, cpu = out.get(timeout=300)
    sub.join(10)
    return {"messages": count, "seconds": last - first, "rate": (count - 1) / (last - first),
            "sustained_rate": sustained_rate(crossings, total, last), "cpu_s": cpu}


def stored_count(path: Path) -> int:
    """Rows in the store's readings table (read-only, next to the writing daemon)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_task(pid: int, tid: int) -> float:
    """CPU time of one thread of a process."""
    fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_daemon(broker: Broker, workdir: Path, nodes: list[str], per_node: int, publishers: int,
               batch_size: int, profile: Path | None = None) -> dict[str, float]:
    total = len(nodes) * per_node
    ingest = IngestProcess(workdir, broker, extra_env={
        "INGEST_BATCH_SIZE": str(batch_size), "MQTT_MAX_INFLIGHT": str(broker.max_inflight),
        "MQTT_CLIENT_ID": "bench-ingest"})
    make_users_db(ingest.users_url, nodes)
    ingest.start()
    assert ingest.process is not None
    pid = ingest.process.pid
    cpu_at_start = cpu_seconds(pid)  # imports and connecting: not part of the per-message cost
    spy = None
    if profile is not None:  # py-spy (in the venv) samples every thread until the daemon exits
        py_spy = Path(sys.executable).with_name("py-spy")
        spy = subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--threads", "--rate", "200", *PROFILE_FLAGS,
                                "--format", "raw", "--output", str(profile)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    publish_started = time.monotonic()
    pub = mp.Process(target=publish, args=(broker, nodes, per_node, publishers))
    pub.start()
    first_at = None
    count, last_change, last_count = 0, time.monotonic(), 0
    samples: list[tuple[float, int]] = []
    while count < total and time.monotonic() - last_change < 30:
        time.sleep(0.1)
        count = stored_count(ingest.tsdb)
        now = time.monotonic()
        if count and first_at is None:
            first_at = now
        if count != last_count:
            last_change, last_count = now, count
            samples.append((now, count))
    pub.join()
    done_at = last_change
    rss = peak_rss_mb(pid)
    cpu = cpu_seconds(pid) - cpu_at_start
    threads = {int(t.name): cpu_seconds_task(pid, int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()}
    code = ingest.stop()
    totals = ingest.wait_for(r"totals: .*").group(0)
    if spy is not None:
        spy.wait(60)
    return {
        "messages": total, "stored": count, "lost": total - count,
        "seconds": done_at - (first_at or publish_started),
        "rate": count / max(done_at - (first_at or publish_started), 1e-9),
        "sustained_rate": sustained_rate(samples, total, done_at),
        "peak_rss_mb": rss, "cpu_s": cpu, "thread_cpu_s": threads, "exit_code": code, "totals": totals,  # type: ignore[dict-item]
    }


def load_note() -> str:
    """What else was running: load average and the busiest other processes."""
    top = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    busiest = ", ".join(" ".join(line.split()[::-1]) + "%" for line in top.splitlines()[1:4])
    return f"load average {os.getloadavg()[0]:.2f} (busiest: {busiest})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--inflight", type=int, default=1000, help="broker max_inflight_messages")
    parser.add_argument("--no-tls", action="store_true", help="plain MQTT instead of the template's TLS")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="work in this directory and keep the logs")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the daemon with py-spy into this file (collapsed stacks)")
    args = parser.parse_args()
    nodes = [node_name(i) for i in range(args.nodes)]
    per_node = args.messages // args.nodes
    print(f"before: {load_note()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="enertrack-bench-") as tmp:
        work = args.keep or Path(tmp)
        users = {INGEST_USER: INGEST_PASSWORD, **{n: f"{n}-password" for n in nodes}}
        with Broker(work / "broker", max_inflight=args.inflight, tls=not args.no_tls, users=users) as broker:
            bare = None if args.skip_bare else run_bare(broker, nodes, per_node, args.publishers)
            if bare:
                print(f"bare paho subscriber (json.loads only): {bare['messages']} msgs in "
                      f"{bare['seconds']:.1f} s = {bare['rate']:,.0f} msg/s overall, "
                      f"{bare['sustained_rate']:,.0f} msg/s sustained (10-90%); CPU {bare['cpu_s']:.1f} s "
                      f"({bare['cpu_s'] / bare['messages'] * 1e6:.0f} us/msg)", flush=True)
            print(f"between: {load_note()}", flush=True)
            daemon = run_daemon(broker, work / "daemon", nodes, per_node, args.publishers, args.batch_size,
                                args.profile)
    print(f"daemon: {daemon['stored']}/{daemon['messages']} stored in {daemon['seconds']:.1f} s = "
          f"{daemon['rate']:,.0f} msg/s overall, {daemon['sustained_rate']:,.0f} msg/s sustained (10-90%); "
          f"lost {daemon['lost']}; peak RSS {daemon['peak_rss_mb']:.1f} MB; "
          f"CPU {daemon['cpu_s']:.1f} s ({daemon['cpu_s'] / daemon['messages'] * 1e6:.0f} us/msg); "
          f"exit {daemon['exit_code']}")
    print(f"daemon {daemon['totals']}")
    print("daemon CPU by thread (tid: s; main, writer, paho's network loop in start order): "
          + ", ".join(f"{tid}: {s:.1f}" for tid, s in sorted(daemon["thread_cpu_s"].items())))  # type: ignore[union-attr]
    if bare:
        print(f"ratio daemon/bare (both sustained, 10-90%): "
              f"{daemon['sustained_rate'] / bare['sustained_rate']:.2f}")
    print(f"after: {load_note()}")


if __name__ == "__main__":
    main()
