"""Many readings of one node as numpy columns, usable wherever a Sequence[Reading] is expected.

Bulk producers (the simulator's backfill, imports) build readings as arrays; making
a Reading object per row costs more than generating the row. ReadingColumns is a
Sequence[Reading], so every TimeseriesStore accepts it through the contract (the
objects are made once, on first use), and a store that knows it can read the
arrays directly: `isinstance(readings, ReadingColumns)` then `.ts` and `.matrix()`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import overload

import numpy as np

from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading


@dataclass(slots=True, eq=False)
class ReadingColumns(Sequence[Reading]):
    """Readings of one node with strictly increasing ts; NaN marks a magnitude a reading lacks."""

    node_id: str
    ts: np.ndarray  # int64 epoch seconds, strictly increasing
    voltage: np.ndarray
    current: np.ndarray
    power: np.ndarray
    energy: np.ndarray
    power_factor: np.ndarray
    frequency: np.ndarray
    _objects: list[Reading] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        size = self.ts.shape[0]
        if any(getattr(self, name).shape != (size,) for name in NAMES):
            raise ValueError("every column must have one value per timestamp")
        if size > 1 and not np.all(np.diff(self.ts) > 0):
            raise ValueError("timestamps must be strictly increasing")

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def values(self) -> dict[str, np.ndarray]:
        """The six magnitude columns by canonical name."""
        return {name: getattr(self, name) for name in NAMES}

    def matrix(self) -> np.ndarray:
        """float64 (rows, magnitudes) in the magnitudes table's order."""
        return np.column_stack([getattr(self, name) for name in NAMES])

    def readings(self) -> list[Reading]:
        """The rows as Reading objects, made once (NaN becomes None)."""
        if self._objects is None:
            columns = []
            for name in NAMES:
                column = getattr(self, name)
                missing = np.isnan(column)
                values = column.tolist()
                if missing.any():
                    values = [None if gap else v for v, gap in zip(values, missing.tolist(), strict=True)]
                columns.append(values)
            self._objects = list(map(Reading, repeat(self.node_id), self.ts.tolist(), *columns))
        return self._objects

    @overload
    def __getitem__(self, index: int) -> Reading: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Reading]: ...

    def __getitem__(self, index: int | slice) -> Reading | Sequence[Reading]:
        return self.readings()[index]

    def __iter__(self) -> Iterator[Reading]:
        return iter(self.readings())
