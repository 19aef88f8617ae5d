"""Local wall-clock time for arrays of epoch seconds (DST-aware, vectorized)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from enertrack.core.energy import QUARTER_S

DAY_S = 86_400
_QUARTERS = DAY_S // QUARTER_S


@lru_cache(maxsize=8192)
def _day_offsets(tz: str, day: int) -> np.ndarray:
    """UTC offset (s) of each quarter hour of one UTC day; every real offset change is on a quarter."""
    zone = ZoneInfo(tz)

    def offset(epoch: int) -> int:
        delta = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = day * DAY_S
    first, last = offset(start), offset(start + DAY_S - QUARTER_S)
    if first == last:
        table = np.full(_QUARTERS, first, dtype=np.int64)
    else:  # a DST change happens in this day: resolve it quarter by quarter
        table = np.array([offset(start + q * QUARTER_S) for q in range(_QUARTERS)], dtype=np.int64)
    table.setflags(write=False)
    return table


def utc_offsets(ts: np.ndarray, tz: str) -> np.ndarray:
    """The zone's UTC offset in seconds at each epoch second."""
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    days = ts // DAY_S
    first = int(days.min())
    table = np.stack([_day_offsets(tz, day) for day in range(first, int(days.max()) + 1)])
    return table[days - first, (ts % DAY_S) // QUARTER_S]


@dataclass(frozen=True, slots=True)
class LocalTime:
    """Wall-clock fields of each instant in one timezone."""

    hour: np.ndarray  # float64 in [0, 24): fractional hour of the local day
    weekday: np.ndarray  # int64, Monday = 0
    day: np.ndarray  # int64, local days since 1970-01-01

    @property
    def weekend(self) -> np.ndarray:
        """True on Saturday and Sunday."""
        return self.weekday >= 5


def local_time(ts: np.ndarray, tz: str) -> LocalTime:
    """Hour of day, weekday and day number of each epoch second in the zone tz."""
    local = ts + utc_offsets(ts, tz)
    day = local // DAY_S
    return LocalTime((local - day * DAY_S) / 3600.0, (day + 3) % 7, day)  # 1970-01-01 was a Thursday
