"""The second given to a reading sent without `ts`: its time of receipt, strictly increasing per node.

Readings are identified by (node, second). Stamping a ts-less reading with int(time of receipt)
alone would make a burst of them (a node's backlog after a reconnect, a redelivery after a
restart) collide in one second and be kept as one. So each gets
max(int(received_at), the last second given to that node + 1).

Pure: the daemon owns one ArrivalSeconds, tries a batch on a copy and keeps the copy only once
the batch is committed, so a retried batch gets the same seconds again.
"""

from __future__ import annotations

from collections.abc import Callable

# Where a node's seconds continue when this process has not stamped one yet (e.g. the newest
# second the store holds for it, so a restart never reuses a second stamped before); None: anywhere.
FirstSeen = Callable[[str], int | None]


def _anywhere(_node_id: str) -> int | None:
    return None


class ArrivalSeconds:
    """node_id -> the last second given to one of its ts-less readings; one entry per registered node."""

    def __init__(self, first_seen: FirstSeen = _anywhere) -> None:
        self.first_seen = first_seen
        self._last: dict[str, int] = {}
        # first_seen's answers, shared with copies: asked once per node, and a retried batch
        # starts from the same answer even if its failed attempt stored part of it.
        self._first: dict[str, int | None] = {}

    def assign(self, node_id: str, received_at: float) -> int:
        """The second for a ts-less reading of node_id received at received_at (epoch seconds)."""
        if node_id in self._last:
            last: int | None = self._last[node_id]
        else:
            if node_id not in self._first:
                self._first[node_id] = self.first_seen(node_id)
            last = self._first[node_id]
        second = int(received_at)
        if last is not None and second <= last:
            second = last + 1
        self._last[node_id] = second
        return second

    def last(self, node_id: str) -> int | None:
        """The last second given to node_id by this process, if any."""
        return self._last.get(node_id)

    def copy(self) -> ArrivalSeconds:
        """A copy to try a batch on: its seconds are its own, first_seen's answers are shared."""
        twin = ArrivalSeconds(self.first_seen)
        twin._last = dict(self._last)
        twin._first = self._first
        return twin
