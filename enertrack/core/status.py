"""Node status: active, disconnected or no data (a pure rule with table-driven tests)."""

from __future__ import annotations

from enum import StrEnum

MIN_WINDOW_S = 30
INTERVALS = 3


class NodeStatus(StrEnum):
    """What the panel shows next to each node."""

    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    NO_DATA = "no_data"


def active_window(interval_s: int) -> int:
    """How recent the last reading must be: max(3 x the reporting interval, 30 s)."""
    return max(INTERVALS * max(interval_s, 0), MIN_WINDOW_S)


def node_status(now: float, last_reading: int | None, interval_s: int,
                offline_at: int | None = None) -> NodeStatus:
    """Active when the last reading is recent and no `offline` arrived after it.

    offline_at is when the node's Last Will (status `offline`) was received, if it was.
    """
    if last_reading is None:
        return NodeStatus.NO_DATA
    if offline_at is not None and offline_at >= last_reading:
        return NodeStatus.DISCONNECTED
    if now - last_reading <= active_window(interval_s):
        return NodeStatus.ACTIVE
    return NodeStatus.DISCONNECTED
