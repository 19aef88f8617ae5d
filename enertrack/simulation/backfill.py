"""The simulator's store edge: years of history written straight into a store, resumable, in bounded memory."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from enertrack.core.columns import ReadingColumns
from enertrack.core.energy import EnergyParams
from enertrack.simulation.fleet import NodeSpec
from enertrack.simulation.meter import NodeSimulator
from enertrack.store.base import TimeseriesStore

BACKFILL_CHUNK = 20_160  # readings per store.write: two weeks of one node at 60 s
PREFETCH_DEPTH = 2  # chunks generated ahead of the store: bounded memory (a few tens of MB)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What a backfill wrote."""

    readings: int
    stored: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0


def resume_points(store: TimeseriesStore, specs: Sequence[NodeSpec], start: int) -> dict[str, tuple[int, float | None]]:
    """Per node, where its history continues: (first ts to write, counter to continue from).

    A node that already has readings in the window continues after its newest one, from
    its stored counter: running the backfill again (the demo restarting) writes only
    what is missing and the counter never jumps. A node with older readings keeps its
    stored counter (a meter that was off); a node with none starts at `start`.
    """
    latest = store.latest([spec.node_id for spec in specs])
    points: dict[str, tuple[int, float | None]] = {}
    for spec in specs:
        last = latest.get(spec.node_id)
        if last is None:
            points[spec.node_id] = (start, None)
        else:
            points[spec.node_id] = (max(start, last.ts + 1), last.energy)
    return points


def align_up(ts: int, step: int) -> int:
    """The first multiple of step at or after ts."""
    return -(-ts // step) * step


def backfill(
    store: TimeseriesStore,
    specs: Sequence[NodeSpec],
    interval_s: int,
    start: int,
    end: int,
    progress: Callable[[NodeSpec, int, float], None] | None = None,
) -> tuple[BackfillResult, list[NodeSimulator]]:
    """Write every node's readings in [start, end] (aligned to interval_s) into the store.

    Node by node, BACKFILL_CHUNK readings per store.write, so memory stays bounded
    whatever the span; readings for the next write are generated on another thread
    while the store writes (numpy and SQLite release the GIL for much of their work).
    Returns the result and the simulators, positioned after `end` with their counters,
    ready to go live.
    """
    resume = resume_points(store, specs, start)
    sims = [NodeSimulator(spec, interval_s, align_up(resume[spec.node_id][0], interval_s),
                          resume[spec.node_id][1]) for spec in specs]
    params = {spec.node_id: EnergyParams(interval_s=interval_s) for spec in specs}
    began = time.perf_counter()
    written = stored = 0
    per_node = dict.fromkeys(params, 0)
    node_began = began
    for node_id, readings in prefetched(_node_chunks(sims, end), PREFETCH_DEPTH):
        result = store.write(readings, {node_id: params[node_id]})
        written += len(readings)
        stored += result.stored
        per_node[node_id] += len(readings)
        if readings.ts[-1] + interval_s > end:  # the node's last chunk
            now = time.perf_counter()
            if progress is not None:
                progress(next(s.spec for s in sims if s.spec.node_id == node_id), per_node[node_id], now - node_began)
            node_began = now
    return BackfillResult(written, stored, time.perf_counter() - began), sims


def _node_chunks(sims: Sequence[NodeSimulator], end: int) -> Iterator[tuple[str, ReadingColumns]]:
    """(node id, readings) for each store.write, node after node."""
    for sim in sims:
        for columns in sim.chunks(end, BACKFILL_CHUNK):
            yield sim.spec.node_id, columns


_DONE = object()


def prefetched(items: Iterable[T], depth: int) -> Iterator[T]:
    """The items of an iterable, produced on a background thread at most depth ahead of the consumer.

    An exception in the producer is raised in the consumer; when the consumer stops early
    (an exception, Ctrl-C, a break), the producer stops at its next item.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    cancel = threading.Event()

    def hand_over(item: object) -> bool:
        while not cancel.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            hand_over(_Failure(exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        cancel.set()
        worker.join()


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException
