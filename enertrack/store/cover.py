"""Split a time range into raw edges and whole rollup buckets (pure, used by the SQLite queries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RAW = 1  # a segment read from raw readings (their resolution is one second)
ROLLUP_LEVELS_S: tuple[int, ...] = (900, 3600, 86400)  # 15 min, 1 h, 1 day; each divides the next


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) read at one level: RAW, or whole UTC-aligned rollup buckets of `level` s."""

    level: int
    start: int
    end: int


def cover(start: int, end: int, levels: Sequence[int] = ROLLUP_LEVELS_S) -> list[Segment]:
    """Disjoint segments, oldest first, covering exactly [start, end) with the coarsest levels.

    Days inside, hours at the edges of the days, quarters at the edges of those, raw
    readings at the very edges, so a rollup never pulls in data from outside the range.
    levels must be ascending and each must divide the next.
    """
    if start >= end:
        return []
    if not levels:
        return [Segment(RAW, start, end)]
    level, finer = levels[-1], levels[:-1]
    first = -(-start // level) * level  # start rounded up to the level
    last = end // level * level  # end rounded down
    if first >= last:
        return cover(start, end, finer)
    return [*cover(start, first, finer), Segment(level, first, last), *cover(last, end, finer)]


def levels_dividing(width: int) -> tuple[int, ...]:
    """The rollup levels whose buckets tile a bucket of `width` seconds (none below 15 min)."""
    return tuple(level for level in ROLLUP_LEVELS_S if width % level == 0)
