"""The payload contract: an MQTT (topic, payload, time of receipt) becomes a Reading, a status or a Rejection.

Pure functions, no I/O. docs/payload.md is the human version of this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from enertrack.core.magnitudes import BY_ALIAS, BY_NAME, MAGNITUDES, Magnitude
from enertrack.core.reading import Reading
from enertrack.models import FW_MAX, NODE_ID_MAX, NODE_ID_RE, NODE_STATUSES

MAX_PAYLOAD_BYTES = 4096  # the broker template's message_size_limit says the same
EXCERPT_CHARS = 200
FUTURE_TOLERANCE_S = 300  # a node's clock may run at most 5 minutes ahead
EPOCH_MIN = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
MS_THRESHOLD = 100_000_000_000  # larger epoch numbers are milliseconds (1e11 s is the year 5138)
TOPIC_CACHE = 4096  # parsed topics kept: two per node (telemetry, status)
# What a valid topic adds to its prefix: "/", the longest node id, "/telemetry" (longer than "/status").
TOPIC_EXTRA = 1 + NODE_ID_MAX + len("/telemetry")

# Keys a payload may carry that are deliberately not data (the topic is the node's identity).
IGNORED_ON_PURPOSE = frozenset({"node_id", "ts"})
# Device-health (diagnostic) keys: kept as the node's latest, never magnitudes (docs/payload.md).
HEALTH_INT_MAX = 2**31 - 1  # uptime_s, dropped and buffered fit a signed 32-bit column
RSSI_MIN, RSSI_MAX = -127, 0  # dBm, what an ESP32 radio reports
HEALTH_KEYS = frozenset({"fw", "rssi", "uptime_s", "dropped", "buffered"})

Kind = Literal["telemetry", "status"]


class Reason(StrEnum):
    """Why a message was rejected: a small closed set, each documented in docs/payload.md."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    UNKNOWN_NODE = "unknown_node"
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    BAD_TS = "bad_ts"
    TS_FUTURE = "ts_future"
    TS_TOO_OLD = "ts_too_old"
    BAD_VALUE = "bad_value"
    OUT_OF_RANGE = "out_of_range"
    CONFLICTING_ALIAS = "conflicting_alias"
    EMPTY = "empty"
    BAD_STATUS = "bad_status"
    RETAINED = "retained"  # telemetry replayed by the broker on a (re)subscription
    STORE_REJECTED = "store_rejected"  # valid, but the time-series store refused it (InfluxDB 4xx)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that will not be stored: why, what to do about it, whose it was, and what it said."""

    reason: Reason
    message: str
    node_id: str | None
    excerpt: str


@dataclass(frozen=True, slots=True)
class Health:
    """A node's own diagnostics as one reading carried them (None: not carried, or not valid)."""

    fw: str | None = None
    rssi: int | None = None
    uptime_s: int | None = None
    dropped: int | None = None
    buffered: int | None = None

    def updated(self, newer: Health) -> Health:
        """These values with every value newer carries put in their place."""
        return Health(**{f.name: v if (v := getattr(newer, f.name)) is not None else getattr(self, f.name)
                         for f in fields(Health)})


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid telemetry message: the reading, the extra keys that were ignored, and whether it had no ts.

    A reading without ts carries the second of receipt here; the daemon gives it its final
    second (telemetry.arrival), so a burst of them is not taken for duplicates. health holds
    the valid diagnostic keys (None when there are none); bad_health names the ones whose
    value was not valid, dropped without touching the reading.
    """

    reading: Reading
    ignored_keys: tuple[str, ...] = ()
    untimed: bool = False
    health: Health | None = None
    bad_health: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A node's `online`/`offline` announcement (its Last Will says `offline`)."""

    node_id: str
    status: str
    received_at: float
    retained: bool = False


Outcome = Accepted | StatusUpdate | Rejection


class _BadJson(ValueError):
    """Raised inside json.loads for what strict JSON forbids."""


def printable(text: str, limit: int = EXCERPT_CHARS) -> str:
    """text with control characters escaped, cut at limit: safe for logs and terminals."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[:limit])[:limit]


def excerpt(payload: bytes) -> str:
    """The first EXCERPT_CHARS characters of a payload, printable and safe to log."""
    return printable(payload[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace"))


def topic_max(prefix: str) -> int:
    """The longest topic a valid message can have under prefix."""
    return len(prefix) + TOPIC_EXTRA


def parse_topic(topic: str, prefix: str) -> tuple[str, Kind] | Rejection:
    """`<prefix>/<node_id>/telemetry|status` -> (node_id, kind), or a bad_topic Rejection."""
    if len(topic) > topic_max(prefix):
        # Checked before the cache: an MQTT topic may be 64 KiB, and 4096 cached ones that long
        # would keep a quarter of a gigabyte alive. "More than", not its length: the daemon keeps
        # only the first topic_max + 1 characters.
        return Rejection(
            Reason.BAD_TOPIC,
            f"topic is more than {topic_max(prefix)} characters, longer than any "
            f"{prefix.rstrip('/')}/<node_id>/telemetry "
            f"or /status, where a node id is 1-{NODE_ID_MAX} of A-Z a-z 0-9 _ -; publish to one of those",
            None,
            "",
        )
    return _parse_topic(topic, prefix)


@lru_cache(maxsize=TOPIC_CACHE)  # a fleet uses few topics; bounded against a flood of new ones
def _parse_topic(topic: str, prefix: str) -> tuple[str, Kind] | Rejection:
    """parse_topic for a topic of bounded length (each one cached is at most topic_max long)."""
    head = prefix.rstrip("/") + "/"
    rest = topic[len(head):] if topic.startswith(head) else None
    parts = rest.split("/") if rest is not None else []
    if len(parts) != 2 or parts[1] not in ("telemetry", "status"):
        return Rejection(
            Reason.BAD_TOPIC,
            f"topic {topic[:120]!r} is not {head}<node_id>/telemetry or {head}<node_id>/status; "
            "publish to one of those",
            None,
            "",
        )
    node_id, kind = parts[0], parts[1]
    if not NODE_ID_RE.fullmatch(node_id):  # not match: its `$` would let "abc\n" through
        return Rejection(
            Reason.BAD_TOPIC,
            f"node id {node_id[:70]!r} in the topic is not 1-{NODE_ID_MAX} of A-Z a-z 0-9 _ -; "
            "rename the node in its firmware and in EnerTrack",
            None,
            "",
        )
    return node_id, kind  # type: ignore[return-value]


def _reject_constant(name: str) -> Any:
    raise _BadJson(f"{name} is not a number in strict JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for key in keys if keys.count(key) > 1)
        raise _BadJson(f"key {twice!r} appears twice")
    return out


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but true/false is not a measurement.
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_ts(value: Any, received_at: float) -> int | tuple[Reason, str]:
    """A payload `ts` as whole epoch seconds, or (reason, message)."""
    if value is None:
        return int(received_at)
    if type(value) is int and EPOCH_MIN <= value <= received_at + FUTURE_TOLERANCE_S:
        return value  # the usual case, whole epoch seconds: what the checks below would return
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            return Reason.BAD_TS, "ts must be a finite number"
        # Clamp first: a huge integer would overflow float division.
        value = max(min(value, MS_THRESHOLD * 10_000), -1)
        seconds = value / 1000 if value >= MS_THRESHOLD else value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return (Reason.BAD_TS, f"ts {value[:40]!r} is not ISO-8601; send e.g. "
                    "'2025-03-01T12:00:00+01:00', epoch seconds or epoch milliseconds")
        if moment.tzinfo is None or moment.utcoffset() is None:
            return (Reason.BAD_TS, f"ts {value[:40]!r} has no UTC offset; add one "
                    "(e.g. 'Z' or '+01:00') so the instant is unambiguous")
        seconds = moment.timestamp()
    else:
        return (Reason.BAD_TS, "ts must be epoch seconds, epoch milliseconds or an ISO-8601 "
                "string with offset (or left out to use the time of receipt)")
    if seconds > received_at + FUTURE_TOLERANCE_S:
        return (Reason.TS_FUTURE, f"ts is {seconds - received_at:.0f} s ahead of the server clock "
                f"(at most {FUTURE_TOLERANCE_S} s allowed); sync the node's clock with NTP")
    if seconds < EPOCH_MIN:
        return (Reason.TS_TOO_OLD, "ts is before 2020-01-01; the node's clock is probably not "
                "set yet: wait for NTP before publishing, or leave ts out")
    return math.floor(seconds)


# Every accepted payload key, canonical name or alias, to its magnitude: one lookup per key.
_BY_KEY: dict[str, Magnitude] = {**BY_ALIAS, **BY_NAME}
# The same, reduced to what the loop below needs per key: (canonical name, minimum, maximum).
_BOUNDS: dict[str, tuple[str, float, float]] = {k: (m.name, m.minimum, m.maximum) for k, m in _BY_KEY.items()}
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def _health_value(key: str, value: Any) -> str | int | None:
    """A diagnostic key's value as kept, or None when it is not valid."""
    if key == "fw":
        ok = isinstance(value, str) and 0 < len(value) <= FW_MAX and value.isprintable()
        return value if ok else None
    if type(value) is not int:  # exact: a bool, a float or a string is not a count
        return None
    low, high = (RSSI_MIN, RSSI_MAX) if key == "rssi" else (0, HEALTH_INT_MAX)
    return value if low <= value <= high else None


def parse_health(found: dict[str, Any]) -> tuple[Health | None, tuple[str, ...]]:
    """The diagnostic keys of a payload -> (their valid values, the keys whose value was not valid).

    null means "not reported", like a magnitude's null: neither kept nor counted as bad.
    """
    kept: dict[str, str | int] = {}
    bad: list[str] = []
    for key, value in found.items():
        if value is None:
            continue
        parsed = _health_value(key, value)
        if parsed is None:
            bad.append(key)
        else:
            kept[key] = parsed
    return (Health(**kept) if kept else None), tuple(bad)  # type: ignore[arg-type]


def _json_object(payload: bytes) -> dict[str, Any] | tuple[Reason, str]:
    """A payload as a strict-JSON object, or (reason, message)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        # "more than", not its size: the daemon keeps only the first MAX_PAYLOAD_BYTES + 1 bytes.
        return (Reason.TOO_LARGE, f"payload is more than {MAX_PAYLOAD_BYTES} bytes, at most "
                f"{MAX_PAYLOAD_BYTES} allowed; send one reading per message")
    try:
        text = payload.decode("utf-8")
        data = _DECODER.decode(text)
    except UnicodeDecodeError:
        return Reason.BAD_JSON, "payload is not UTF-8 text; send a JSON object"
    except _BadJson as exc:
        return (Reason.BAD_JSON, f"payload is not strict JSON: {exc}; "
                "send a sensor failure as a left-out field (or null), never NaN")
    except (ValueError, RecursionError) as exc:
        return (Reason.BAD_JSON, f"payload is not valid JSON ({str(exc)[:80]}); "
                'send an object such as {"v": 230.1, "p": 120}')
    if not isinstance(data, dict):
        return (Reason.NOT_OBJECT, f"payload is a JSON {type(data).__name__}, not an object; "
                'send an object such as {"v": 230.1, "p": 120}')
    return data


def parse_telemetry(node_id: str, payload: bytes, received_at: float) -> Accepted | Rejection:
    """Validate a telemetry payload of a known node; received_at is epoch seconds."""

    def reject(reason: Reason, message: str) -> Rejection:
        return Rejection(reason, message, node_id, excerpt(payload))

    data = _json_object(payload)
    if isinstance(data, tuple):
        return reject(*data)
    raw_ts = data.get("ts")
    ts = parse_ts(raw_ts, received_at)
    if isinstance(ts, tuple):
        return reject(*ts)

    values: dict[str, float] = {}
    seen_as: dict[str, str] = {}
    ignored: list[str] = []
    diagnostics: dict[str, Any] = {}
    for key, value in data.items():  # every message passes here: the happy path is kept short
        bounds = _BOUNDS.get(key)
        if bounds is None:
            if key in HEALTH_KEYS:
                diagnostics[key] = value
            elif key not in IGNORED_ON_PURPOSE:
                ignored.append(key)
            continue
        name, low, high = bounds
        if name in seen_as:
            return reject(Reason.CONFLICTING_ALIAS, f"{seen_as[name]!r} and {key!r} both "
                          f"give {name}; send only one of them")
        seen_as[name] = key
        if value is None:
            continue  # ArduinoJson writes a NaN reading as null: "not measured"
        kind = type(value)  # exact types: json gives no subclasses, and bool must not pass
        if (kind is float or kind is int) and low <= value <= high:  # NaN and inf fail this too
            values[name] = float(value)
            continue
        if kind is int or (kind is float and math.isfinite(value)):
            magnitude = _BY_KEY[key]
            return reject(Reason.OUT_OF_RANGE, f"{key}={value} is outside the plausible range "
                          f"{magnitude.minimum:g}..{magnitude.maximum:g} {magnitude.unit}".rstrip()
                          + "; check the sensor and its wiring")
        return reject(Reason.BAD_VALUE, f"{key} must be a number, got {json.dumps(value)[:40]}; "
                      "send numbers without quotes")
    if not values:
        names = ", ".join(f"{m.name} ({m.alias})" for m in MAGNITUDES)
        return reject(Reason.EMPTY, f"payload carries no measurement; send at least one of {names}")
    health, bad_health = parse_health(diagnostics) if diagnostics else (None, ())
    return Accepted(Reading(node_id=node_id, ts=ts, **values), tuple(ignored), raw_ts is None, health, bad_health)


def store_refused(node_id: str, payload: bytes, detail: str) -> Rejection:
    """A valid reading the time-series store refused on its own (detail: the store's words)."""
    return Rejection(
        Reason.STORE_REJECTED,
        "valid, but the time-series store refused it (the rest of its batch was stored; it is not "
        f"retried); fix what the store says, e.g. the bucket's retention or a field's type: {detail}",
        node_id,
        excerpt(payload),
    )


def parse_status(node_id: str, payload: bytes, received_at: float, retained: bool = False) -> StatusUpdate | Rejection:
    """`online` or `offline` (surrounding whitespace and case forgiven)."""
    text = payload[:64].decode("utf-8", errors="replace").strip().lower()
    if len(payload) > 64 or text not in NODE_STATUSES:
        return Rejection(Reason.BAD_STATUS, "status payload must be the text online or offline",
                         node_id, excerpt(payload))
    return StatusUpdate(node_id, text, received_at, retained)


def decode(
    topic: str,
    payload: bytes,
    received_at: float,
    *,
    prefix: str = "enertrack",
    is_known: Callable[[str], bool] = lambda _node_id: True,
    retained: bool = False,
) -> Outcome:
    """One MQTT message to its outcome: topic first, then the node registry, then the payload."""
    parsed = parse_topic(topic, prefix)
    if isinstance(parsed, Rejection):
        return Rejection(parsed.reason, parsed.message, None, excerpt(payload))
    node_id, kind = parsed
    if not is_known(node_id):
        return Rejection(Reason.UNKNOWN_NODE, f"node {node_id!r} is not registered in EnerTrack "
                         "(or was deleted); add it with `enertrack node add` or on the Nodes page",
                         node_id, excerpt(payload))
    if kind == "status":
        return parse_status(node_id, payload, received_at, retained)
    if retained:
        # The broker sets the flag only when it replays its stored copy to a new (or renewed)
        # subscription: every reconnect of the daemon would ingest the same reading again.
        return Rejection(Reason.RETAINED, "telemetry was published with the retain flag, so the broker "
                         "replays it on every reconnect; publish telemetry without retain, and clear the "
                         "stored copy by publishing an empty retained message to this topic",
                         node_id, excerpt(payload))
    return parse_telemetry(node_id, payload, received_at)
