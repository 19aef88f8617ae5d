"""The node status rule, table-driven."""

from __future__ import annotations

import pytest

from enertrack.core.status import NodeStatus, active_window, node_status

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("last_reading", "interval", "offline_at", "expected"),
    [
        (None, 10, None, NodeStatus.NO_DATA),
        (None, 10, NOW - 5, NodeStatus.NO_DATA),  # an offline LWT but never a reading
        (NOW - 5, 10, None, NodeStatus.ACTIVE),
        (NOW - 30, 10, None, NodeStatus.ACTIVE),  # 3 x 10 s = 30 s: still active at the edge
        (NOW - 31, 10, None, NodeStatus.DISCONNECTED),
        (NOW - 29, 1, None, NodeStatus.ACTIVE),  # never less than 30 s
        (NOW - 31, 1, None, NodeStatus.DISCONNECTED),
        (NOW - 170, 60, None, NodeStatus.ACTIVE),  # 3 x 60 s = 180 s
        (NOW - 181, 60, None, NodeStatus.DISCONNECTED),
        (NOW - 5, 10, NOW - 2, NodeStatus.DISCONNECTED),  # offline after its last reading
        (NOW - 5, 10, NOW - 5, NodeStatus.DISCONNECTED),  # same second: the will wins
        (NOW - 5, 10, NOW - 60, NodeStatus.ACTIVE),  # offline, then it came back
        (NOW + 3, 10, None, NodeStatus.ACTIVE),  # a node clock slightly ahead
    ],
)
def test_status_rule(last_reading: int | None, interval: int, offline_at: int | None, expected: NodeStatus) -> None:
    assert node_status(NOW, last_reading, interval, offline_at) is expected


def test_window() -> None:
    assert [active_window(i) for i in (1, 10, 11, 60)] == [30, 30, 33, 180]
