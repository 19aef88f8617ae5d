"""Batching and ack bookkeeping for the ingest daemon: when a batch closes and what it becomes.

Pure: the daemon feeds it messages and the clock, and acts on what it answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from enertrack.core.reading import Reading
from enertrack.ingest.arrival import ArrivalSeconds
from enertrack.ingest.payload import (
    Accepted,
    Health,
    Rejection,
    StatusUpdate,
    decode,
    parse_topic,
    store_refused,
)

IDLE_CLOSE_S = 0.02  # a pause this long in the stream closes a non-empty batch early


class Inbound(NamedTuple):
    """One MQTT message as the network thread hands it over, tagged with its connection.

    A NamedTuple rather than a frozen dataclass: built for every message on paho's thread, it
    costs a third as much to make (no per-field object.__setattr__).
    """

    mid: int
    topic: str
    payload: bytes
    received_at: float
    retained: bool = False
    generation: int = 0  # which connection delivered it: a mid is only valid on that one
    qos: int = 1


class HealthReport(NamedTuple):
    """A node's diagnostics and when the last message carrying any of them arrived (epoch second).

    The node measures them when it sends (docs/payload.md): the last message received is the
    freshest, whatever the ts of its reading (a replayed backlog carries current values).
    """

    node_id: str
    received_at: int
    health: Health


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejection with where and when it arrived, ready for the dead-letter table."""

    rejection: Rejection
    topic: str
    received_at: float


@dataclass(slots=True)
class Plan:
    """What committing one batch means: readings to store, side records, then these acks."""

    readings: list[Reading] = field(default_factory=list)
    sources: list[Inbound] = field(default_factory=list)  # the message of each reading, by index
    dead_letters: list[DeadLetter] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored_keys: int = 0
    duplicates_in_batch: int = 0  # repeated (node, ts) in this batch, then also those already stored
    stored: int = 0  # new readings the store took
    untimed: int = 0  # readings sent without ts, stamped by telemetry.arrival
    health: dict[str, HealthReport] = field(default_factory=dict)  # per node, the batch's latest
    bad_health: int = 0  # diagnostic values that were not valid, dropped


def node_ids_in(messages: Sequence[Inbound], prefix: str) -> set[str]:
    """The node ids named by well-formed topics in messages."""
    found: set[str] = set()
    for message in messages:
        parsed = parse_topic(message.topic, prefix)
        if not isinstance(parsed, Rejection):
            found.add(parsed[0])
    return found


def plan_batch(
    messages: Sequence[Inbound], prefix: str, is_known: Callable[[str], bool],
    arrivals: ArrivalSeconds | None = None,
) -> Plan:
    """Decode a batch; a repeated (node, ts) keeps the first reading, as the store would.

    A reading without ts is never a duplicate: it gets the next free second of its node from
    arrivals (which it advances; a fresh ArrivalSeconds when None).
    """
    plan = Plan()
    arrivals = ArrivalSeconds() if arrivals is None else arrivals
    seen: set[tuple[str, int]] = set()
    for message in messages:
        outcome = decode(message.topic, message.payload, message.received_at,
                         prefix=prefix, is_known=is_known, retained=message.retained)
        if isinstance(outcome, Accepted):
            reading = outcome.reading
            plan.ignored_keys += len(outcome.ignored_keys)
            if outcome.untimed:
                reading = _stamped(reading, arrivals, message.received_at, seen)
                plan.untimed += 1
            key = (reading.node_id, reading.ts)
            if key in seen:
                plan.duplicates_in_batch += 1
                continue
            seen.add(key)
            plan.readings.append(reading)
            plan.sources.append(message)
            plan.bad_health += len(outcome.bad_health)
            if outcome.health is not None:
                keep_latest(plan.health, HealthReport(reading.node_id, int(message.received_at), outcome.health))
        elif isinstance(outcome, StatusUpdate):
            plan.statuses.append(outcome)
        else:
            plan.dead_letters.append(DeadLetter(outcome, message.topic, message.received_at))
    return plan


def keep_latest(latest: dict[str, HealthReport], report: HealthReport) -> None:
    """Add report, received after everything in latest, to latest (one per node)."""
    found = latest.get(report.node_id)
    latest[report.node_id] = report if found is None else merged(found, report)


def merged(earlier: HealthReport, later: HealthReport) -> HealthReport:
    """Two reports of one node as one: the later one's values, the earlier one's where it has none."""
    return HealthReport(later.node_id, max(earlier.received_at, later.received_at),
                        earlier.health.updated(later.health))


def _stamped(reading: Reading, arrivals: ArrivalSeconds, received_at: float, taken: set[tuple[str, int]]) -> Reading:
    """reading with the next second of its node that no reading of this batch holds yet."""
    ts = arrivals.assign(reading.node_id, received_at)
    while (reading.node_id, ts) in taken:  # a reading with that ts came earlier in the batch
        ts = arrivals.assign(reading.node_id, received_at)
    return replace(reading, ts=ts)


def refuse(plan: Plan, index: int, detail: str) -> None:
    """Turn the plan's reading at index, which the store refused, into a dead letter."""
    message = plan.sources[index]
    rejection = store_refused(plan.readings[index].node_id, message.payload, detail)
    plan.dead_letters.append(DeadLetter(rejection, message.topic, message.received_at))


def ackable(messages: Sequence[Inbound], generation: int) -> list[int]:
    """Mids to acknowledge now: only those delivered on the current connection.

    After a reconnect the broker redelivers unacknowledged messages on the new
    connection and may give an old mid to a new message, so an old mid is never acked.
    """
    return [m.mid for m in messages if m.generation == generation and m.qos > 0]


class Batcher:
    """Collects messages; a batch closes when full, when old enough, or when the stream pauses."""

    def __init__(self, max_size: int, max_age_s: float, idle_s: float = IDLE_CLOSE_S) -> None:
        self.max_size = max_size
        self.max_age_s = max_age_s
        self.idle_s = min(idle_s, max_age_s)
        self._items: list[Inbound] = []
        self._opened_at = 0.0
        self._last_at = 0.0

    def __len__(self) -> int:
        return len(self._items)

    def extend(self, items: Sequence[Inbound], now: float) -> None:
        """Put several messages, arrived by now, in the open batch."""
        if not items:
            return
        if not self._items:
            self._opened_at = now
        self._items.extend(items)
        self._last_at = now

    def room(self) -> int:
        """How many more messages the open batch takes."""
        return max(self.max_size - len(self._items), 0)

    def full(self) -> bool:
        """True when the batch has max_size messages."""
        return len(self._items) >= self.max_size

    def wait_s(self, now: float) -> float | None:
        """How long to wait for the next message before the batch is due (None: no batch open)."""
        if not self._items:
            return None
        deadline = min(self._opened_at + self.max_age_s, self._last_at + self.idle_s)
        return max(deadline - now, 0.0)

    def due(self, now: float) -> bool:
        """True when the open batch should be committed now."""
        wait = self.wait_s(now)
        return self.full() or (wait is not None and wait <= 0.0)

    def take(self) -> list[Inbound]:
        """Close the batch and return its messages."""
        items, self._items = self._items, []
        return items
