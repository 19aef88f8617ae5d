"""The bounded hand-over from the daemon's network thread to its writer, taken a batch at a time.

queue.Queue hands items over one by one, and each get() and put() goes through a Condition in
Python (the lock, then its ownership check, then notify): at 10,000 messages/s that was a
noticeable share of the two threads' time under one GIL. Here the writer takes everything it
has room for in one call, and a side is only woken when it is actually waiting.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Handover(Generic[T]):
    """A FIFO of at most maxsize items between one producer thread and one consumer thread."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._taker_waiting = False
        self._putter_waiting = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T, timeout: float) -> bool:
        """Append item, waiting up to timeout seconds for room; False if there was none."""
        with self._lock:
            if len(self._items) >= self.maxsize:
                self._putter_waiting = True
                try:
                    if not self._not_full.wait_for(lambda: len(self._items) < self.maxsize, timeout):
                        return False
                finally:
                    self._putter_waiting = False
            self._items.append(item)
            if self._taker_waiting:
                self._not_empty.notify()
        return True

    def take(self, most: int, timeout: float) -> list[T]:
        """Up to `most` items, oldest first; waits up to timeout seconds when there are none."""
        with self._lock:
            if not self._items and timeout > 0:
                self._taker_waiting = True
                try:
                    self._not_empty.wait(timeout)
                finally:
                    self._taker_waiting = False
            items = self._items
            taken = [items.popleft() for _ in range(min(most, len(items)))]
            if taken and self._putter_waiting:
                self._not_full.notify()
        return taken
