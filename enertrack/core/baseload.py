"""Base load: the always-on power, a low percentile of night-time power (pure numpy).

docs/insights.md says how each figure is computed and why these choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

NIGHT_HOURS = (0, 5)  # local [00:00, 05:00): few people cook, wash or work then
PERCENTILE = 10.0  # low, but not the single quietest quarter hour
BUCKET_S = 900  # the figures read 15-minute mean power
HOURS_PER_YEAR = 8760.0
MIN_NIGHT_BUCKETS = 8  # two hours of night readings before a base load is claimed


@dataclass(frozen=True, slots=True)
class BaseLoad:
    """The always-on power, how much of the average it is, and what it costs a year."""

    watts: float
    average_watts: float  # mean power over every 15-minute bucket with readings
    night_buckets: int

    @property
    def share(self) -> float:
        """Base load over average power (0..1)."""
        return min(self.watts / self.average_watts, 1.0) if self.average_watts > 0 else 0.0

    def yearly_kwh(self) -> float:
        """kWh the base load uses in a year."""
        return self.watts * HOURS_PER_YEAR / 1000.0

    def yearly_cost(self, price_per_kwh: float | None) -> float | None:
        """The base load's yearly kWh at a price, when there is one."""
        return None if price_per_kwh is None else self.yearly_kwh() * price_per_kwh


def night_mask(starts: np.ndarray, tz: str) -> np.ndarray:
    """Whether each bucket start falls in the local night hours."""
    zone = ZoneInfo(tz)
    hours = np.fromiter((datetime.fromtimestamp(int(t), zone).hour for t in starts), dtype=np.int64,
                        count=starts.size)
    return (hours >= NIGHT_HOURS[0]) & (hours < NIGHT_HOURS[1])


def base_load(starts: np.ndarray, mean_watts: np.ndarray, tz: str) -> BaseLoad | None:
    """BaseLoad from 15-minute (start, mean power) buckets, or None with too few night buckets.

    For several nodes pass the sum of their buckets' means per start (see total_buckets).
    """
    keep = np.isfinite(mean_watts)
    starts, mean_watts = starts[keep], mean_watts[keep]
    night = mean_watts[night_mask(starts, tz)]
    if night.size < MIN_NIGHT_BUCKETS:
        return None
    watts = float(np.percentile(night, PERCENTILE))
    return BaseLoad(watts=watts, average_watts=float(mean_watts.mean()), night_buckets=int(night.size))


def total_buckets(per_node: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum of several nodes' bucket means, on the buckets every node has (a gap in one is a gap in all)."""
    if not per_node:
        return np.empty(0, dtype=np.int64), np.empty(0)
    common = per_node[0][0]
    for starts, _ in per_node[1:]:
        common = np.intersect1d(common, starts)
    total = np.zeros(common.size)
    for starts, means in per_node:
        total += means[np.searchsorted(starts, common)]
    return common, total
