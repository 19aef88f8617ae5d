"""The payload contract, table-driven: every accepted form and every rejection reason."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from enertrack.core.magnitudes import MAGNITUDES
from enertrack.core.reading import Reading
from enertrack.ingest.payload import (
    EXCERPT_CHARS,
    MAX_PAYLOAD_BYTES,
    Accepted,
    Health,
    Reason,
    Rejection,
    StatusUpdate,
    decode,
    excerpt,
    parse_topic,
    store_refused,
    topic_max,
)

NOW = 1_750_000_000.75  # 2025-06-15T15:06:40.75Z, the time of receipt
NOW_S = 1_750_000_000
TOPIC = "enertrack/meter-1/telemetry"


def run(payload: bytes | str, topic: str = TOPIC, **kwargs: object) -> object:
    raw = payload.encode() if isinstance(payload, str) else payload
    return decode(topic, raw, NOW, **kwargs)  # type: ignore[arg-type]


ACCEPTED: list[tuple[str, str, Reading]] = [
    ("canonical names, no ts", '{"voltage": 230.1, "current": 1.5, "power": 300, "energy": 12.5, '
     '"power_factor": 0.87, "frequency": 50.01}',
     Reading("meter-1", NOW_S, 230.1, 1.5, 300.0, 12.5, 0.87, 50.01)),
    ("aliases", '{"v": 229, "i": 0.5, "p": 100.5, "e": 3, "pf": -0.5, "f": 59.9}',
     Reading("meter-1", NOW_S, 229.0, 0.5, 100.5, 3.0, -0.5, 59.9)),
    ("names and aliases mixed", '{"voltage": 231, "p": 10}', Reading("meter-1", NOW_S, voltage=231.0, power=10.0)),
    ("a single magnitude", '{"e": 0}', Reading("meter-1", NOW_S, energy=0.0)),
    ("epoch seconds", '{"ts": 1749999000, "p": 1}', Reading("meter-1", 1_749_999_000, power=1.0)),
    ("epoch seconds with fraction are floored", '{"ts": 1749999000.9, "p": 1}',
     Reading("meter-1", 1_749_999_000, power=1.0)),
    ("epoch milliseconds", '{"ts": 1749999000999, "p": 1}', Reading("meter-1", 1_749_999_000, power=1.0)),
    ("ISO-8601 with Z", '{"ts": "2025-06-15T14:50:00Z", "p": 1}', Reading("meter-1", 1_749_999_000, power=1.0)),
    ("ISO-8601 with offset", '{"ts": "2025-06-15T16:50:00.5+02:00", "p": 1}',
     Reading("meter-1", 1_749_999_000, power=1.0)),
    ("ISO-8601 with +05:45", '{"ts": "2025-06-15T20:35:00+05:45", "p": 1}',
     Reading("meter-1", 1_749_999_000, power=1.0)),
    ("ts null means time of receipt", '{"ts": null, "p": 1}', Reading("meter-1", NOW_S, power=1.0)),
    ("ts just under 5 minutes ahead", f'{{"ts": {NOW_S + 299}, "p": 1}}', Reading("meter-1", NOW_S + 299, power=1.0)),
    ("ts exactly 2020-01-01", '{"ts": 1577836800, "p": 1}', Reading("meter-1", 1_577_836_800, power=1.0)),
    ("ts exactly 5 minutes ahead (whole seconds)", f'{{"ts": {NOW_S + 300}, "p": 1}}',
     Reading("meter-1", NOW_S + 300, power=1.0)),
    ("float values at the bounds", '{"v": 300.0, "f": 70.0, "pf": 1.0}',
     Reading("meter-1", NOW_S, voltage=300.0, power_factor=1.0, frequency=70.0)),
    ("range bounds inclusive", '{"v": 0, "i": 200, "p": 50000, "pf": -1, "f": 40}',
     Reading("meter-1", NOW_S, voltage=0.0, current=200.0, power=50000.0, power_factor=-1.0, frequency=40.0)),
    ("null field is not measured", '{"v": null, "p": 5}', Reading("meter-1", NOW_S, power=5.0)),
    ("node id in the payload is ignored", '{"node_id": "someone-else", "p": 5}', Reading("meter-1", NOW_S, power=5.0)),
    ("unknown keys are ignored", '{"p": 5, "temp_c": 31, "wifi": "home"}', Reading("meter-1", NOW_S, power=5.0)),
    ("device-health keys are not magnitudes", '{"p": 5, "rssi": -60, "fw": "1.2", "uptime_s": 9, "dropped": 0, '
     '"buffered": 1}', Reading("meter-1", NOW_S, power=5.0)),
    ("whitespace and a BOM-free UTF-8 body", ' \n{ "p" : 5 }\n ', Reading("meter-1", NOW_S, power=5.0)),
]


@pytest.mark.parametrize(("case", "payload", "expected"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(case: str, payload: str, expected: Reading) -> None:
    outcome = run(payload)
    assert isinstance(outcome, Accepted), outcome
    assert outcome.reading == expected


def test_unknown_keys_are_reported_but_not_the_deliberately_ignored_ones() -> None:
    outcome = run('{"p": 5, "temp_c": 31, "node_id": "x", "ts": null, "wifi": "home", "rssi": -60}')
    assert isinstance(outcome, Accepted)
    assert outcome.ignored_keys == ("temp_c", "wifi")


HEALTH: list[tuple[str, str, Health | None, tuple[str, ...]]] = [
    ("all five", '"fw": "1.4.0-rc1", "rssi": -67, "uptime_s": 86400, "dropped": 12, "buffered": 240',
     Health("1.4.0-rc1", -67, 86400, 12, 240), ()),
    ("none", '"temp_c": 31', None, ()),
    ("some", '"rssi": -40', Health(rssi=-40), ()),
    ("null is not reported, not bad", '"fw": null, "rssi": null, "uptime_s": 5', Health(uptime_s=5), ()),
    ("bounds inclusive", '"fw": "' + "x" * 32 + '", "rssi": -127, "uptime_s": 0, "dropped": 2147483647, "buffered": 0',
     Health("x" * 32, -127, 0, 2147483647, 0), ()),
    ("rssi 0 dBm is kept", '"rssi": 0', Health(rssi=0), ()),
    ("fw too long", '"fw": "' + "x" * 33 + '", "rssi": -50', Health(rssi=-50), ("fw",)),
    ("fw empty", '"fw": "", "rssi": -50', Health(rssi=-50), ("fw",)),
    ("fw not text", '"fw": 14, "rssi": -50', Health(rssi=-50), ("fw",)),
    ("fw with a control character", '"fw": "1.0\\u001b[2J", "rssi": -50', Health(rssi=-50), ("fw",)),
    ("rssi positive", '"rssi": 31, "uptime_s": 5', Health(uptime_s=5), ("rssi",)),
    ("rssi below -127", '"rssi": -128', None, ("rssi",)),
    ("rssi a float", '"rssi": -60.5', None, ("rssi",)),
    ("uptime negative", '"uptime_s": -1', None, ("uptime_s",)),
    ("uptime beyond 32 bits", '"uptime_s": 2147483648', None, ("uptime_s",)),
    ("dropped a string", '"dropped": "3"', None, ("dropped",)),
    ("buffered a boolean", '"buffered": true', None, ("buffered",)),
    ("buffered a list", '"buffered": [1]', None, ("buffered",)),
    ("every one bad", '"fw": [], "rssi": "x", "uptime_s": 1.5, "dropped": -3, "buffered": {}', None,
     ("fw", "rssi", "uptime_s", "dropped", "buffered")),
]


@pytest.mark.parametrize(("case", "keys", "health", "bad"), HEALTH, ids=[c[0] for c in HEALTH])
def test_device_health_keys_are_kept_and_bad_values_dropped_without_touching_the_reading(
    case: str, keys: str, health: Health | None, bad: tuple[str, ...]
) -> None:
    outcome = run(f'{{"ts": 1749999000, "v": 230.5, "p": 5, {keys}}}')
    assert isinstance(outcome, Accepted), outcome  # a bad diagnostic never rejects the reading
    assert outcome.reading == Reading("meter-1", 1_749_999_000, voltage=230.5, power=5.0)
    assert (outcome.health, outcome.bad_health, outcome.ignored_keys) == (health, bad, ("temp_c",) if "temp_c" in keys else ())


def test_a_payload_with_only_device_health_carries_no_measurement() -> None:
    outcome = run('{"fw": "1.0", "rssi": -60}')
    assert isinstance(outcome, Rejection) and outcome.reason == Reason.EMPTY


def test_every_magnitude_in_the_table_is_accepted_by_name_and_alias() -> None:
    for magnitude in MAGNITUDES:
        middle = (magnitude.minimum + magnitude.maximum) / 2
        for key in (magnitude.name, magnitude.alias):
            outcome = run(json.dumps({key: middle}))
            assert isinstance(outcome, Accepted)
            assert outcome.reading.values() == {magnitude.name: middle}


REJECTED: list[tuple[str, str, bytes | str, Reason, str]] = [
    ("wrong prefix", "other/meter-1/telemetry", '{"p": 1}', Reason.BAD_TOPIC, "enertrack/<node_id>"),
    ("too many levels", "enertrack/a/b/telemetry", '{"p": 1}', Reason.BAD_TOPIC, "publish to"),
    ("unknown suffix", "enertrack/meter-1/data", '{"p": 1}', Reason.BAD_TOPIC, "publish to"),
    ("bad node id characters", "enertrack/me.ter/telemetry", '{"p": 1}', Reason.BAD_TOPIC, "1-64"),
    ("node id too long", f"enertrack/{'x' * 65}/telemetry", '{"p": 1}', Reason.BAD_TOPIC, "1-64"),
    ("empty node id", "enertrack//telemetry", '{"p": 1}', Reason.BAD_TOPIC, "1-64"),
    ("node id ending in a line break", "enertrack/meter-1\n/telemetry", '{"p": 1}', Reason.BAD_TOPIC, "1-64"),
    ("status of a node id ending in a line break", "enertrack/meter-1\n/status", "online", Reason.BAD_TOPIC,
     "1-64"),
    ("topic longer than any valid one", f"enertrack/meter-1/{'x' * 60_000}", '{"p": 1}', Reason.BAD_TOPIC,
     "topic is more than 84 characters, longer than any enertrack/<node_id>/telemetry"),
    ("too large", TOPIC, '{"p": 1, "pad": "' + "x" * MAX_PAYLOAD_BYTES + '"}', Reason.TOO_LARGE, "at most 4096"),
    ("not UTF-8", TOPIC, b'{"p": 1, "x": "\xff"}', Reason.BAD_JSON, "UTF-8"),
    ("truncated JSON", TOPIC, '{"p": 1', Reason.BAD_JSON, "not valid JSON"),
    ("empty payload", TOPIC, "", Reason.BAD_JSON, "not valid JSON"),
    ("NaN", TOPIC, '{"p": NaN}', Reason.BAD_JSON, "NaN"),
    ("Infinity", TOPIC, '{"p": Infinity}', Reason.BAD_JSON, "Infinity"),
    ("-Infinity", TOPIC, '{"p": -Infinity}', Reason.BAD_JSON, "Infinity"),
    ("duplicate key", TOPIC, '{"p": 1, "p": 2}', Reason.BAD_JSON, "appears twice"),
    ("single quotes", TOPIC, "{'p': 1}", Reason.BAD_JSON, "not valid JSON"),
    ("array", TOPIC, '[{"p": 1}]', Reason.NOT_OBJECT, "list"),
    ("number", TOPIC, "230.1", Reason.NOT_OBJECT, "float"),
    ("string", TOPIC, '"online"', Reason.NOT_OBJECT, "str"),
    ("null", TOPIC, "null", Reason.NOT_OBJECT, "NoneType"),
    ("ts as text digits", TOPIC, '{"ts": "1749999000", "p": 1}', Reason.BAD_TS, "not ISO-8601"),
    ("ts without offset", TOPIC, '{"ts": "2025-06-15T14:50:00", "p": 1}', Reason.BAD_TS, "no UTC offset"),
    ("ts date only", TOPIC, '{"ts": "2025-06-15", "p": 1}', Reason.BAD_TS, "no UTC offset"),
    ("ts garbage", TOPIC, '{"ts": "yesterday", "p": 1}', Reason.BAD_TS, "not ISO-8601"),
    ("ts bool", TOPIC, '{"ts": true, "p": 1}', Reason.BAD_TS, "epoch seconds"),
    ("ts object", TOPIC, '{"ts": {}, "p": 1}', Reason.BAD_TS, "epoch seconds"),
    ("ts overflowing float", TOPIC, '{"ts": 1e400, "p": 1}', Reason.BAD_TS, "finite"),
    ("ts over 5 minutes ahead", TOPIC, f'{{"ts": {NOW_S + 302}, "p": 1}}', Reason.TS_FUTURE, "NTP"),
    ("ts one second past 5 minutes ahead", TOPIC, f'{{"ts": {NOW_S + 301}, "p": 1}}', Reason.TS_FUTURE, "NTP"),
    ("ts ms over 5 minutes ahead", TOPIC, f'{{"ts": {(NOW_S + 400) * 1000}, "p": 1}}', Reason.TS_FUTURE, "NTP"),
    ("ts huge integer", TOPIC, '{"ts": ' + "9" * 400 + ', "p": 1}', Reason.TS_FUTURE, "NTP"),
    ("ts ISO ahead", TOPIC, '{"ts": "2025-06-15T16:00:00Z", "p": 1}', Reason.TS_FUTURE, "NTP"),
    ("ts before 2020", TOPIC, '{"ts": 1577836799, "p": 1}', Reason.TS_TOO_OLD, "2020-01-01"),
    ("ts zero (clock not set)", TOPIC, '{"ts": 0, "p": 1}', Reason.TS_TOO_OLD, "NTP"),
    ("ts negative", TOPIC, '{"ts": -5, "p": 1}', Reason.TS_TOO_OLD, "2020-01-01"),
    ("ts uptime millis", TOPIC, '{"ts": 123456, "p": 1}', Reason.TS_TOO_OLD, "2020-01-01"),
    ("value as text", TOPIC, '{"p": "120"}', Reason.BAD_VALUE, "without quotes"),
    ("value bool", TOPIC, '{"v": true}', Reason.BAD_VALUE, "must be a number"),
    ("value list", TOPIC, '{"v": [230]}', Reason.BAD_VALUE, "must be a number"),
    ("value overflowing float", TOPIC, '{"e": 1e400}', Reason.BAD_VALUE, "must be a number"),
    ("value overflowing float, negative", TOPIC, '{"p": -1e400}', Reason.BAD_VALUE, "must be a number"),
    ("float just above range", TOPIC, '{"f": 70.000001}', Reason.OUT_OF_RANGE, "40..70 Hz"),
    ("voltage above range", TOPIC, '{"v": 300.1}', Reason.OUT_OF_RANGE, "0..300 V"),
    ("negative power", TOPIC, '{"power": -1}', Reason.OUT_OF_RANGE, "0..50000 W"),
    ("power factor above 1", TOPIC, '{"pf": 1.01}', Reason.OUT_OF_RANGE, "-1..1;"),
    ("frequency below range", TOPIC, '{"f": 0}', Reason.OUT_OF_RANGE, "40..70 Hz"),
    ("huge integer", TOPIC, '{"e": ' + "9" * 400 + "}", Reason.OUT_OF_RANGE, "plausible range"),
    ("name and alias together", TOPIC, '{"voltage": 230, "v": 230}', Reason.CONFLICTING_ALIAS, "only one"),
    ("alias then name", TOPIC, '{"pf": 0.9, "power_factor": 0.9}', Reason.CONFLICTING_ALIAS, "only one"),
    ("empty object", TOPIC, "{}", Reason.EMPTY, "at least one of voltage (v)"),
    ("only unknown keys", TOPIC, '{"rssi": -60}', Reason.EMPTY, "no measurement"),
    ("only ts", TOPIC, '{"ts": 1749999000}', Reason.EMPTY, "no measurement"),
    ("only nulls", TOPIC, '{"v": null, "p": null}', Reason.EMPTY, "no measurement"),
    ("bad status", "enertrack/meter-1/status", "maybe", Reason.BAD_STATUS, "online or offline"),
    ("status as JSON", "enertrack/meter-1/status", '{"status": "online"}', Reason.BAD_STATUS, "online or offline"),
]


@pytest.mark.parametrize(("case", "topic", "payload", "reason", "hint"), REJECTED, ids=[c[0] for c in REJECTED])
def test_rejected(case: str, topic: str, payload: bytes | str, reason: Reason, hint: str) -> None:
    outcome = run(payload, topic=topic)
    assert isinstance(outcome, Rejection), outcome
    assert outcome.reason == reason
    assert hint in outcome.message
    raw = payload.encode() if isinstance(payload, str) else payload
    assert outcome.excerpt == excerpt(raw)
    expected_node = None if reason == Reason.BAD_TOPIC else "meter-1"
    assert outcome.node_id == expected_node


def test_every_reason_is_exercised_by_the_table() -> None:
    # unknown_node and retained: tests below; store_rejected: the daemon's tests (test_ingest_logic.py).
    covered = {row[3] for row in REJECTED} | {Reason.UNKNOWN_NODE, Reason.RETAINED, Reason.STORE_REJECTED}
    assert covered == set(Reason)


def test_telemetry_the_broker_replays_as_retained_is_rejected_but_a_retained_status_is_not() -> None:
    outcome = run('{"ts": 1749999000, "p": 1}', retained=True)
    assert isinstance(outcome, Rejection) and outcome.reason == Reason.RETAINED
    assert outcome.node_id == "meter-1" and outcome.excerpt == '{"ts": 1749999000, "p": 1}'
    assert "publish telemetry without retain" in outcome.message and "empty retained message" in outcome.message
    assert isinstance(run('{"p": 1}', retained=False), Accepted)
    unknown = run('{"p": 1}', retained=True, is_known=lambda _node_id: False)
    assert isinstance(unknown, Rejection) and unknown.reason == Reason.UNKNOWN_NODE


@pytest.mark.parametrize(("payload", "untimed"), [('{"p": 1}', True), ('{"ts": null, "p": 1}', True),
                                                  ('{"ts": 1749999000, "p": 1}', False)])
def test_a_reading_without_ts_is_marked_for_the_daemon_to_stamp(payload: str, untimed: bool) -> None:
    outcome = run(payload)
    assert isinstance(outcome, Accepted) and outcome.untimed is untimed


def test_every_reason_is_documented_for_operators() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "payload.md").read_text()
    assert [r for r in Reason if f"| `{r.value}` |" not in table] == []


def test_a_reading_the_store_refused_says_so_and_keeps_the_stores_words() -> None:
    rejection = store_refused("meter-1", b'{"p": 1}', "InfluxDB rejected the request (422): beyond retention")
    assert rejection.reason == Reason.STORE_REJECTED and rejection.node_id == "meter-1"
    assert rejection.message.startswith("valid, but the time-series store refused it")
    assert rejection.message.endswith("beyond retention")
    assert rejection.excerpt == '{"p": 1}'


def test_unknown_node_is_rejected_before_its_payload_is_read() -> None:
    outcome = run("not even json", is_known=lambda node_id: node_id != "meter-1")
    assert isinstance(outcome, Rejection)
    assert outcome.reason == Reason.UNKNOWN_NODE
    assert outcome.node_id == "meter-1"
    assert "enertrack node add" in outcome.message


@pytest.mark.parametrize("prefix", ["enertrack", "site/a", "site/a/"])
def test_the_longest_valid_topic_is_accepted_and_one_character_more_is_not(prefix: str) -> None:
    head = prefix.rstrip("/")
    longest = f"{head}/{'x' * 64}/telemetry"
    assert len(longest) == topic_max(head)
    assert parse_topic(longest, prefix) == ("x" * 64, "telemetry")
    assert parse_topic(f"{head}/{'x' * 64}/status", prefix) == ("x" * 64, "status")
    longer = parse_topic(longest + "x", prefix)
    assert isinstance(longer, Rejection) and longer.reason == Reason.BAD_TOPIC


def test_long_topics_are_not_kept_by_the_topic_cache() -> None:
    # A node may publish under enertrack/<itself>/ any topic up to 64 KiB: 4096 cached ones of
    # 60 KB would keep ~240 MB alive. 100 of them must leave (almost) nothing behind.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100):
            outcome = parse_topic(f"enertrack/meter-1/{i}{'x' * 60_000}", "enertrack")
            assert isinstance(outcome, Rejection) and outcome.reason == Reason.BAD_TOPIC
        del outcome
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 500_000, f"{kept} bytes kept after 100 topics of 60 KB"


def test_custom_prefix() -> None:
    assert isinstance(run('{"p": 1}', topic="site/a/meter-1/telemetry", prefix="site/a"), Accepted)
    outcome = run('{"p": 1}', topic=TOPIC, prefix="site/a")
    assert isinstance(outcome, Rejection) and outcome.reason == Reason.BAD_TOPIC


@pytest.mark.parametrize(("payload", "status"), [("online", "online"), ("offline", "offline"), (" Online\n", "online")])
def test_status(payload: str, status: str) -> None:
    outcome = run(payload, topic="enertrack/meter-1/status", retained=True)
    assert outcome == StatusUpdate("meter-1", status, NOW, True)


def test_excerpt_is_bounded_and_printable() -> None:
    text = excerpt(b"\x00\x1b[31m" + "ñ".encode() * 500)
    assert len(text) == EXCERPT_CHARS
    assert text.isprintable()
    assert text.startswith("\\x00\\x1b[31mñ")
