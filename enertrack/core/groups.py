"""Group-by on numpy key columns, without pandas (the ingest daemon never loads it) or its per-call cost."""

from __future__ import annotations

import numpy as np


def sorted_groups(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, starts): rows sorted by the keys (first key first, stable), and each group's first.

    `starts` indexes the sorted rows; reduce a column with `np.add.reduceat(column[order], starts)`.
    """
    order = np.lexsort(keys[::-1])  # lexsort sorts by its last key first
    new_group = np.zeros(order.size, dtype=bool)
    new_group[:1] = True
    for key in keys:
        ordered = key[order]
        new_group[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(new_group)
