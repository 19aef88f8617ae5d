"""Find the readings a store refuses: halve a refused batch until each refusal stands alone.

A store answers StoreRejected for data it will never take (InfluxDB's 400/413/422). Retrying
the same batch fails the same way, so the batch is split in two and each half written, down
to single readings: everything else is stored, and the refused readings are named with the
store's reason. k refusals in n readings cost about 2k·log2(n/k) extra writes (2n - 1 at the
very worst, every reading refused). StoreUnavailable is not caught: the caller retries the
whole batch later, and writes are idempotent, so halves already stored are not stored twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from enertrack.core.reading import Reading
from enertrack.store.base import StoreRejected, WriteResult


@dataclass(frozen=True, slots=True)
class Refusal:
    """A reading the store refused on its own: its index in the batch and the store's words."""

    index: int
    error: StoreRejected


@dataclass(slots=True)
class Isolated:
    """What writing a batch piece by piece did."""

    stored: int = 0
    duplicates: int = 0
    refused: list[Refusal] = field(default_factory=list)
    writes: int = 0  # calls made to the store, the first one included


def write_isolating(
    write: Callable[[Sequence[Reading]], WriteResult], readings: Sequence[Reading]
) -> Isolated:
    """Write readings; where the store refuses a part, halve it until the refused ones are alone.

    Parts are written in batch order (the left half first), so time order is kept.
    """
    outcome = Isolated()
    pending = [(0, len(readings))] if readings else []  # a stack of [lo, hi) still to write
    while pending:
        lo, hi = pending.pop()
        outcome.writes += 1
        try:
            result = write(readings[lo:hi])
        except StoreRejected as exc:
            if hi - lo == 1:
                outcome.refused.append(Refusal(lo, exc))
            else:
                middle = (lo + hi) // 2
                pending += [(middle, hi), (lo, middle)]  # the left half is popped first
            continue
        outcome.stored += result.stored
        outcome.duplicates += result.duplicates
    return outcome

