"""Unusual days: each day's kWh against the median of the same weekday over the four weeks before.

Pure: a mapping of local dates to kWh in, flags out; docs/insights.md explains the thresholds.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WEEKS_BACK = 4
MIN_REFERENCE_DAYS = 2  # fewer same weekdays with data than this: no judgement
HIGH_RATIO = 1.5  # flagged above 150 % of the usual ...
LOW_RATIO = 0.5  # ... or below 50 %
MIN_DIFFERENCE_KWH = 0.5  # and at least this far from it, so tiny loads are not flagged


@dataclass(frozen=True, slots=True)
class DayCheck:
    """One day against its usual."""

    day: date
    kwh: float
    usual_kwh: float | None  # median of the same weekday in the four weeks before
    reference_days: int

    @property
    def ratio(self) -> float | None:
        """kWh over the usual, when there is a usual above zero."""
        return self.kwh / self.usual_kwh if self.usual_kwh else None

    @property
    def unusual(self) -> str | None:
        """'high', 'low' or None."""
        if self.ratio is None or self.usual_kwh is None or abs(self.kwh - self.usual_kwh) < MIN_DIFFERENCE_KWH:
            return None
        if self.ratio > HIGH_RATIO:
            return "high"
        return "low" if self.ratio < LOW_RATIO else None


def reference_days(day: date) -> list[date]:
    """The same weekday in each of the four weeks before day."""
    return [day - timedelta(weeks=k) for k in range(1, WEEKS_BACK + 1)]


def check_day(day: date, kwh: float, history: Mapping[date, float]) -> DayCheck:
    """day's kWh against the median of the reference days present in history (days with data)."""
    values = [history[d] for d in reference_days(day) if d in history]
    usual = statistics.median(values) if len(values) >= MIN_REFERENCE_DAYS else None
    return DayCheck(day, kwh, usual, len(values))


def after_silence(daily: Mapping[date, float], since: date) -> set[date]:
    """Days of daily whose day before (on or after since) had no energy: a node's first day, or an outage's last.

    Such a day is likely partial (readings began in its afternoon), so it is no usual for others.
    """
    return {d for d in daily if d - timedelta(days=1) >= since and d - timedelta(days=1) not in daily}


def check_days(days: list[date], daily: Mapping[date, float], since: date | None = None) -> list[DayCheck]:
    """check_day for each of days, whose kWh (and history) come from daily, read from since on.

    With since, days after a silence in daily are left out of the usuals (see after_silence).
    """
    partial = after_silence(daily, since) if since is not None else set()
    history = {d: kwh for d, kwh in daily.items() if d not in partial}
    return [check_day(d, daily.get(d, 0.0), history) for d in days]
