"""Which nodes exist, as the ingest daemon knows them: refreshed periodically and on a miss."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from enertrack.core.energy import EnergyParams

REFRESH_S = 60.0  # a deleted node stops being accepted within a minute
MISS_REFRESH_S = 5.0  # a newly added node is accepted within seconds, without a query per message


class NodeDirectory:
    """node_id -> EnergyParams from the users-and-nodes database; the daemon does the loading."""

    def __init__(self, refresh_s: float = REFRESH_S, miss_refresh_s: float = MISS_REFRESH_S) -> None:
        self.refresh_s = refresh_s
        self.miss_refresh_s = miss_refresh_s
        self._params: dict[str, EnergyParams] = {}
        self._loaded_at = -math.inf
        self.loaded = False

    def needs_refresh(self, node_ids: Iterable[str], now: float) -> bool:
        """True when the list is stale, or a node in node_ids is missing and a reload is allowed."""
        age = now - self._loaded_at
        if not self.loaded or age >= self.refresh_s:
            return True
        return age >= self.miss_refresh_s and any(n not in self._params for n in node_ids)

    def replace(self, params: Mapping[str, EnergyParams], now: float) -> None:
        """Install a freshly loaded node list (node_id -> its energy rules' parameters)."""
        self._params = dict(params)
        self._loaded_at = now
        self.loaded = True

    def known(self, node_id: str) -> bool:
        """True when node_id is registered."""
        return node_id in self._params

    def params(self, node_ids: Iterable[str]) -> dict[str, EnergyParams]:
        """Energy parameters of the registered nodes among node_ids."""
        return {n: self._params[n] for n in node_ids if n in self._params}

    def __len__(self) -> int:
        return len(self._params)
