"""What the broker does that the daemon's design rests on, measured on a private Mosquitto (the shipped template).

    .venv/bin/python bench/broker.py window     # how many unacked QoS 1 messages it lends a manual-ack subscriber
    .venv/bin/python bench/broker.py autosave   # what autosave_on_changes costs as a backlog builds up

window: a manual-ack subscriber (MQTT 3.1.1, or 5 announcing a Receive Maximum) first acks
nothing (the broker's window, as configured), then acks in batches as the daemon does while
publishers keep sending: the peak of messages received but not yet acknowledged is what the
daemon may have to hold. autosave: messages published for a persistent session that is away
(they are all queued) or connected, per autosave setting.

Not a test: the figures go to docs/operations.md ("The in-flight window", "Broker durability").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker, publish_all  # noqa: E402

PAYLOAD = b'{"ts": 1750000000, "v": 230.1, "i": 1.25, "p": 281.5, "e": 1234.567, "pf": 0.96, "f": 50.01}'
TOPIC = "enertrack/+/telemetry"


def users(publishers: int) -> dict[str, str]:
    return {INGEST_USER: INGEST_PASSWORD, **{f"n{i}": f"n{i}-password-x" for i in range(publishers)}}


def subscriber(broker: Broker, client_id: str, protocol: int, receive_maximum: int | None,
               on_message: object, manual_ack: bool = True) -> mqtt.Client:
    """A connected, subscribed persistent-session client (loop running)."""
    if protocol == 5:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                             manual_ack=manual_ack)
    else:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                             protocol=mqtt.MQTTv311, manual_ack=manual_ack)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    subscribed = threading.Event()
    client.on_message = on_message  # type: ignore[assignment]
    client.on_connect = lambda c, *_a: c.subscribe(TOPIC, 1)
    client.on_subscribe = lambda *_a: subscribed.set()
    if protocol == 5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        if receive_maximum:
            props.ReceiveMaximum = receive_maximum
        client.connect("127.0.0.1", broker.port, 60, clean_start=False, properties=props)
    else:
        client.connect("127.0.0.1", broker.port, 60)
    client.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError("the subscriber did not subscribe within 10 s")
    return client


def publish(broker: Broker, count: int, publishers: int) -> float:
    """count messages from `publishers` threads, each waiting for its PUBACKs; the seconds it took."""

    def one(i: int) -> None:
        client = broker.client(f"n{i}")
        for _ in range(0, count // publishers, 500):
            publish_all(client, [(f"enertrack/n{i}/telemetry", PAYLOAD)] * 500, timeout=600)
        client.disconnect()

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def window(max_inflight: int, protocol: int, receive_maximum: int | None, count: int, batch: int,
           write_s: float, publishers: int) -> str:
    """The broker's window with no acks, then the peak unacknowledged while acking in batches."""
    label = f"max_inflight_messages {max_inflight:>4}, MQTT {'5' if protocol == 5 else '3.1.1'}" + (
        f" Receive Maximum {receive_maximum}" if receive_maximum else "")
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp), max_inflight=max_inflight, tls=False, users=users(publishers))
        broker.start()
        try:
            got: list[int] = []
            idle = subscriber(broker, "idle", protocol, receive_maximum, lambda *_a: got.append(1))
            publish(broker, 3000, publishers)
            time.sleep(2)
            held_idle = len(got)
            idle.disconnect()
            idle.loop_stop()

            lock = threading.Lock()
            pending: list[int] = []
            state = {"received": 0, "acked": 0, "peak": 0}

            def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
                with lock:
                    pending.append(message.mid)
                    state["received"] += 1
                    state["peak"] = max(state["peak"], state["received"] - state["acked"])

            client = subscriber(broker, "acking", protocol, receive_maximum, on_message)
            stop = threading.Event()

            def acker() -> None:  # the daemon's rhythm: a batch at a time, acked after its "write"
                while not stop.is_set():
                    time.sleep(write_s)
                    with lock:
                        taken = pending[:batch]
                        del pending[:batch]
                    for mid in taken:
                        client.ack(mid, 1)
                    with lock:
                        state["acked"] += len(taken)

            thread = threading.Thread(target=acker)
            thread.start()
            publish(broker, count, publishers)
            deadline = time.monotonic() + 60
            while state["acked"] < count and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            thread.join()
            client.disconnect()
            client.loop_stop()
        finally:
            broker.stop()
    return (f"{label}: {held_idle:>5} of 3000 lent without acks; acking {batch} every {write_s * 1000:.0f} ms "
            f"while {count:,} arrive: peak {state['peak']:,} unacknowledged")


def autosave(on_changes: bool, interval: int, count: int, publishers: int, connected: bool) -> str:
    """How fast the broker takes count messages for a persistent session, per autosave setting."""
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp), tls=False, users=users(publishers))
        lines = [line for line in broker.conf_file.read_text().splitlines() if not line.startswith("autosave")]
        lines += [f"autosave_on_changes {'true' if on_changes else 'false'}", f"autosave_interval {interval}"]
        broker.conf_file.write_text("\n".join(lines) + "\n")
        broker.start()
        try:
            got: list[int] = []
            client = subscriber(broker, "daemon", 4, None, lambda *_a: got.append(1), manual_ack=False)
            if not connected:
                client.disconnect()
                client.loop_stop()
            seconds = publish(broker, count, publishers)
            if connected:
                deadline = time.monotonic() + 120
                while len(got) < count and time.monotonic() < deadline:
                    time.sleep(0.05)
                seconds = max(seconds, time.monotonic() - deadline + 120)
                client.disconnect()
                client.loop_stop()
            database = Path(tmp) / "data" / "mosquitto.db"
            size = database.stat().st_size / 1e6 if database.exists() else 0.0
        finally:
            broker.stop()
    setting = f"autosave_on_changes {'true ' if on_changes else 'false'} autosave_interval {interval:>5}"
    where = "subscriber connected" if connected else "subscriber away (all queued)"
    return f"{setting}, {where}: {count:,} messages in {seconds:5.1f} s ({count / seconds:7,.0f} msg/s), " \
           f"database file {size:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["window", "autosave"])
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--publishers", type=int, default=4)
    args = parser.parse_args()
    print(f"mosquitto {subprocess_version()}, {args.messages:,} messages from {args.publishers} publishers")
    if args.what == "window":
        for max_inflight, protocol, receive_maximum in [(1000, 4, None), (20, 4, None), (1000, 5, 1000),
                                                         (1000, 5, 100), (20, 5, 100)]:
            print(window(max_inflight, protocol, receive_maximum, args.messages, 500, 0.03, args.publishers),
                  flush=True)
    else:
        for on_changes, interval in [(False, 60), (False, 10), (True, 10_000), (True, 1000), (True, 100)]:
            for connected in (True, False):
                print(autosave(on_changes, interval, args.messages, args.publishers, connected), flush=True)


def subprocess_version() -> str:
    import subprocess

    out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    return out.split("version ", 1)[1].split()[0] if "version " in out else "?"


if __name__ == "__main__":
    main()
