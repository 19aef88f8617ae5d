"""The ingest daemon's counters, its once-a-minute stats line, and rate-limited logging."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_KEYS = 10_000  # a throttle forgets keys quiet for an interval once it holds more than this


def rejection_key(reason: str) -> str:
    """The throttle key of a rejection's log line: its reason alone.

    Node ids come from the network: with a key per node id, 20,000 messages to distinct
    unknown ids wrote 20,000 warnings. Per reason, a flood writes one line a minute.
    """
    return f"reject:{reason}"


class Throttle:
    """Allows one event per key per interval and counts the ones it held back."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._held: Counter[str] = Counter()

    def allow(self, key: str, now: float) -> tuple[bool, int]:
        """(True, how many were held back since the last allowed one) or (False, 0)."""
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] += 1
            return False, 0
        self._last[key] = now
        if len(self._last) > MAX_KEYS:  # bounded: keys include node ids, which come from the network
            self._last = {k: v for k, v in self._last.items() if now - v < self.interval_s}
            self._held = Counter({k: n for k, n in self._held.items() if k in self._last})
        return True, self._held.pop(key, 0)


@dataclass(slots=True)
class Window:
    """Counts since the last stats line."""

    received: int = 0
    stored: int = 0
    untimed: int = 0  # readings that came without ts (stamped with their second of receipt)
    duplicates: int = 0
    statuses: int = 0
    ignored_keys: int = 0
    bad_health: int = 0  # diagnostic values (fw, rssi, ...) that were not valid, dropped
    rejected: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    batch_latency_sum_s: float = 0.0
    batch_latency_max_s: float = 0.0
    reconnects: int = 0
    store_retries: int = 0
    queue_peak: int = 0


class IngestStats:
    """Counters for the window since the last line, and totals since start."""

    def __init__(self, now: float) -> None:
        self.window = Window()
        self.totals = Window()
        self._window_start = now
        self._started = now

    def received(self, count: int = 1) -> None:
        """Messages handed over by the network thread."""
        self.window.received += count
        self.totals.received += count

    def queue_depth(self, depth: int) -> None:
        """A sample of the queue between the network thread and the writer."""
        if depth > self.window.queue_peak:
            self.window.queue_peak = depth
            self.totals.queue_peak = max(self.totals.queue_peak, depth)

    def reconnected(self) -> None:
        """A connection after the first one."""
        self.window.reconnects += 1
        self.totals.reconnects += 1

    def store_retry(self) -> None:
        """A batch commit that failed and will be retried."""
        self.window.store_retries += 1
        self.totals.store_retries += 1

    def committed(self, *, stored: int, duplicates: int, statuses: int, ignored_keys: int,
                  rejected: Counter[str], latency_s: float, untimed: int = 0, bad_health: int = 0) -> None:
        """One batch durably written and acknowledged."""
        for w in (self.window, self.totals):
            w.stored += stored
            w.untimed += untimed
            w.duplicates += duplicates
            w.statuses += statuses
            w.ignored_keys += ignored_keys
            w.bad_health += bad_health
            w.rejected.update(rejected)
            w.batches += 1
            w.batch_latency_sum_s += latency_s
            w.batch_latency_max_s = max(w.batch_latency_max_s, latency_s)

    def line(self, now: float, queue_depth: int, queue_max: int, *, total: bool = False) -> str:
        """The stats line for the window (or, with total, since start); starts a new window."""
        w = self.totals if total else self.window
        elapsed = max(now - (self._started if total else self._window_start), 1e-9)
        rejected = sum(w.rejected.values())
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(w.rejected.items()))
        avg_batch = (w.stored + w.duplicates + rejected + w.statuses) / w.batches if w.batches else 0.0
        avg_latency = w.batch_latency_sum_s / w.batches * 1000 if w.batches else 0.0
        text = (
            f"{'totals' if total else 'stats'}: {w.received / elapsed:.1f} msg/s, received {w.received}, "
            f"stored {w.stored}, without ts {w.untimed}, duplicates {w.duplicates}, statuses {w.statuses}, "
            f"rejected {rejected}" + (f" ({reasons})" if reasons else "") + ", "
            f"ignored keys {w.ignored_keys}, bad diagnostics {w.bad_health}, "
            f"batches {w.batches} (avg {avg_batch:.1f} msg, "
            f"latency avg {avg_latency:.1f} ms max {w.batch_latency_max_s * 1000:.1f} ms), "
            f"queue {queue_depth}/{queue_max} (peak {w.queue_peak}), reconnects {w.reconnects}, "
            f"store retries {w.store_retries}"
        )
        if not total:
            self.window = Window()
            self._window_start = now
        return text
