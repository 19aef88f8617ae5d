"""What a live node dashboard has drawn, kept in the browser between ticks.

The browser sends it back on every tick, so it is untrusted: from_json() accepts only a
well-formed, bounded state. Entries are counted per slot of time (a sixtieth of the window):
when a slot leaves the window, the tick deletes exactly that many entries from the front.

A tick's answer may reach the browser after the charts were redrawn (another preset) or after
another tick: it patches figures it was not computed from. So every draw gets a new
`generation`, every applied tick bumps `seq`, and the browser applies a tick's answer only
while its state still has the generation and seq the tick was computed from.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from enertrack.core.magnitudes import NAMES
from enertrack.models import NODE_ID_RE
from enertrack.store.base import BUCKET_LADDER_S, DEFAULT_MAX_POINTS, bucket_width
from enertrack.web.services.node_dashboard import LIVE_PRESETS, PRESETS

SLOTS = 60
MAX_ENTRIES = 4 * DEFAULT_MAX_POINTS  # per magnitude: every bucket of a window plus its gap breaks
MAX_EPOCH = 2**40
MAX_GENERATION = 2**52  # exact in a JavaScript number, where the browser compares it


def new_generation() -> int:
    """A fresh draw's generation: random, so draws in different workers never share one."""
    return secrets.randbelow(MAX_GENERATION)


def _int(value: Any, low: int = 0, high: int = MAX_EPOCH) -> int | None:
    """An int in [low, high] from JSON (bools and floats refused), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


@dataclass(frozen=True, slots=True)
class Drawn:
    """One magnitude's trace entries per slot since `first`, and its newest bucket start."""

    first: int | None = None
    counts: tuple[int, ...] = ()
    last: int | None = None

    @property
    def total(self) -> int:
        """Entries in the traces."""
        return sum(self.counts)

    def add(self, owners: Sequence[int], slot: int) -> Drawn:
        """Count new entries (owners: the bucket start of each, ascending)."""
        if not owners:
            return self
        first = self.first if self.first is not None else owners[0] // slot * slot
        counts = list(self.counts)
        for owner in owners:
            index = max((owner - first) // slot, 0)
            counts.extend([0] * (index + 1 - len(counts)))
            counts[index] += 1
        return Drawn(first, tuple(counts), max(owners[-1], self.last or owners[-1]))

    def trim(self, window_start: int, slot: int) -> tuple[int, Drawn]:
        """(entries to delete from the front, what stays) once slots end before window_start."""
        if self.first is None:
            return 0, self
        gone = max(0, min((window_start - self.first) // slot, len(self.counts)))
        if gone == 0:
            return 0, self
        rest = self.counts[gone:]
        return sum(self.counts[:gone]), Drawn(self.first + gone * slot if rest else None, rest, self.last)

    def to_json(self) -> list[Any]:
        """[first, counts, last]."""
        return [self.first, list(self.counts), self.last]

    @classmethod
    def from_json(cls, raw: Any, slot: int) -> Drawn | None:
        """A Drawn from untrusted JSON, or None."""
        if not isinstance(raw, list) or len(raw) != 3 or not isinstance(raw[1], list):
            return None
        first, counts, last = _int(raw[0]), [_int(c, 0, MAX_ENTRIES) for c in raw[1]], _int(raw[2])
        if None in counts or len(counts) > 2 * SLOTS or sum(counts) > MAX_ENTRIES:  # type: ignore[arg-type]
            return None
        if (raw[0] is not None and (first is None or first % slot)) or (raw[2] is not None and last is None):
            return None
        if first is None and counts:
            return None
        return cls(first, tuple(counts), last)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LiveState:
    """A live chart set: which node and preset, bucket width, drawn-through second, entries,
    which draw it belongs to and how many ticks were applied since, and how time is drawn."""

    node: str
    preset: str
    width: int
    through: int
    drawn: dict[str, Drawn]
    generation: int
    seq: int = 0
    instants: bool = False  # x is the real instant, not the wall clock (charts.TimeAxis)

    @property
    def span(self) -> int:
        """The window's length in seconds."""
        return PRESETS[self.preset]

    @property
    def slot(self) -> int:
        """Seconds per counting slot."""
        return self.slot_of(self.preset)

    @staticmethod
    def width_of(preset: str) -> int:
        """The bucket width a live preset draws with (it depends on the window's length only)."""
        return bucket_width(0, PRESETS[preset], DEFAULT_MAX_POINTS)

    @staticmethod
    def slot_of(preset: str) -> int:
        """Seconds per counting slot of a live preset."""
        return PRESETS[preset] // SLOTS

    def ticked(self, through: int, drawn: dict[str, Drawn], instants: bool) -> LiveState:
        """The state after one more applied tick of the same draw."""
        return replace(self, through=through, drawn=drawn, seq=self.seq + 1, instants=instants)

    def to_json(self) -> dict[str, Any]:
        """The dcc.Store value."""
        return {"node": self.node, "preset": self.preset, "width": self.width, "through": self.through,
                "drawn": {name: drawn.to_json() for name, drawn in self.drawn.items()},
                "generation": self.generation, "seq": self.seq, "instants": self.instants}

    @classmethod
    def from_json(cls, raw: Any) -> LiveState | None:
        """A LiveState from the browser, or None when anything is off."""
        if not isinstance(raw, dict):
            return None
        node, preset, drawn = raw.get("node"), raw.get("preset"), raw.get("drawn")
        width, through = _int(raw.get("width"), 1, max(BUCKET_LADDER_S)), _int(raw.get("through"))
        generation, seq = _int(raw.get("generation"), 0, MAX_GENERATION - 1), _int(raw.get("seq"))
        instants = raw.get("instants")
        if not (isinstance(node, str) and NODE_ID_RE.fullmatch(node) and preset in LIVE_PRESETS):
            return None
        if generation is None or seq is None or not isinstance(instants, bool):
            return None
        if width != cls.width_of(str(preset)) or through is None or through % width or not isinstance(drawn, dict):
            return None
        slot = cls.slot_of(str(preset))
        parsed = {name: Drawn.from_json(drawn.get(name), slot) for name in NAMES}
        if set(drawn) != set(NAMES) or any(d is None for d in parsed.values()):
            return None
        return cls(node, str(preset), width, through, parsed, generation, seq, instants)  # type: ignore[arg-type]
