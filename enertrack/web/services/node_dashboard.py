"""One node's dashboard for its owner: time ranges, the six series and their summaries.

Range resolution is pure (untrusted preset and dates in, a TimeRange or an error code out);
the loaders take the owner explicitly and read the store, never anything from a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from enertrack.core.calendar import day_start, picked_days
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import DEFAULT_MAX_POINTS, Extreme, RangeSummary, TimeseriesStore, bucket_width
from enertrack.web.services.nodes import NodeView, owned, view

HOUR, DAY = 3600, 86400
PRESETS: dict[str, int] = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "1y": 365 * DAY}
LIVE_PRESETS: frozenset[str] = frozenset({"1h", "24h"})
CUSTOM = "custom"
DEFAULT_PRESET = "24h"
MAX_CUSTOM_DAYS = 3 * 366  # three years: longer ranges are a job for the CSV or the analysis page
# Live charts draw whole buckets only, up to this many seconds ago: a reading that reaches the
# store a little late (ingest batching, a device clock a few seconds off) still lands in a
# bucket that has not been drawn yet instead of being skipped.
LIVE_DELAY_S = 10


@dataclass(frozen=True, slots=True)
class TimeRange:
    """What the dashboard shows: [start, end) for numbers and CSV; charts up to chart_end."""

    preset: str
    start: int
    end: int
    chart_end: int  # live presets: the end of the last complete bucket; otherwise == end
    width: int  # bucket width of the charts, seconds
    live: bool

    @property
    def max_points(self) -> int:
        """The max_points that makes the store pick exactly `width` (live) or its default."""
        if not self.live:
            return DEFAULT_MAX_POINTS
        return max(1, (self.chart_end - self.start) // self.width)


def live_cutoff(now: float, width: int) -> int:
    """End of the last whole bucket that live charts may draw at `now`."""
    return int(now - LIVE_DELAY_S) // width * width


def preset_range(preset: str, now: float) -> TimeRange:
    """The range of a preset ending now; live presets start on a bucket boundary."""
    span = PRESETS[preset]
    end = int(now) + 1  # the current second included
    width = bucket_width(end - span, end, DEFAULT_MAX_POINTS)
    if preset not in LIVE_PRESETS:
        return TimeRange(preset, end - span, end, end, width, False)
    start = (end - span) // width * width
    return TimeRange(preset, start, end, live_cutoff(now, width), width, True)


def custom_range(start: object, end: object, tz: str) -> TimeRange | str:
    """From local midnight of start to the end of the day `end` (a picker's last day, inclusive), or an error code.

    Error codes: bad_date (missing or unreadable), end_before_start, too_long.
    """
    days = picked_days(start, end)
    if isinstance(days, str):
        return days
    first, last = days
    if (last - first).days > MAX_CUSTOM_DAYS:
        return "too_long"
    zone = ZoneInfo(tz)
    begin, until = day_start(first, zone), day_start(last, zone)
    width = bucket_width(begin, until, DEFAULT_MAX_POINTS)
    return TimeRange(CUSTOM, begin, until, until, width, False)


def resolve_range(preset: object, start: object, end: object, tz: str, now: float) -> TimeRange | str:
    """The range asked for by untrusted controls, or an error code (bad_preset, or custom's)."""
    if isinstance(preset, str) and preset in PRESETS:
        return preset_range(preset, now)
    if preset == CUSTOM:
        return custom_range(start, end, tz)
    return "bad_preset"


@dataclass(frozen=True, slots=True)
class MagnitudeData:
    """One magnitude on the dashboard: its chart buckets and its numbers."""

    name: str
    series: pd.DataFrame  # SERIES_COLUMNS
    summary: RangeSummary
    current: Extreme | None  # the newest value and when it was measured


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything one draw of the dashboard shows."""

    node: NodeView
    range: TimeRange
    magnitudes: dict[str, MagnitudeData]  # in the magnitudes table's order


def current_value(latest: Reading | None, name: str, summary: RangeSummary) -> Extreme | None:
    """The newest reading's value; when it did not carry this magnitude, the last one in range."""
    value = getattr(latest, name) if latest is not None else None
    if latest is not None and value is not None:
        return Extreme(float(value), latest.ts)
    return summary.last


Numbers = dict[str, tuple[RangeSummary, Extreme | None]]  # per magnitude: its summary and current value


def _numbers(store: TimeseriesStore, node_id: str, start: int, end: int) -> Numbers:
    """Summary and current value of every magnitude in [start, end)."""
    latest = store.latest([node_id]).get(node_id)
    out = {}
    for name in NAMES:
        summary = store.summary(node_id, name, start, end)
        out[name] = (summary, current_value(latest, name, summary))
    return out


def _series(store: TimeseriesStore, node_id: str, rng: TimeRange) -> dict[str, pd.DataFrame]:
    """Chart buckets of every magnitude over rng."""
    return {name: store.series(node_id, name, rng.start, rng.chart_end, rng.max_points) for name in NAMES}


def load_numbers(db: Session, store: TimeseriesStore, user_id: int, node_id: object,
                 rng: TimeRange) -> tuple[NodeView, Numbers]:
    """The user's node and its numbers over rng (no chart data); NodeNotFound for anyone else's."""
    node = view(owned(db, user_id, node_id))
    return node, _numbers(store, node.node_id, rng.start, rng.end)


def load_series(db: Session, store: TimeseriesStore, user_id: int, node_id: object,
                rng: TimeRange) -> tuple[NodeView, dict[str, pd.DataFrame]]:
    """The user's node and its chart buckets over rng (no numbers); NodeNotFound for anyone else's."""
    node = view(owned(db, user_id, node_id))
    return node, _series(store, node.node_id, rng)


def load(db: Session, store: TimeseriesStore, user_id: int, node_id: object, rng: TimeRange) -> Dashboard:
    """The user's node over rng, charts and numbers; NodeNotFound for anyone else's node or a missing one."""
    node = view(owned(db, user_id, node_id))
    numbers, series = _numbers(store, node.node_id, rng.start, rng.end), _series(store, node.node_id, rng)
    return Dashboard(node, rng, {name: MagnitudeData(name, series[name], *numbers[name]) for name in NAMES})


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """What a live tick adds: the new whole buckets of each magnitude and the fresh numbers."""

    node: NodeView
    series: Mapping[str, pd.DataFrame]
    numbers: Numbers
    through: int  # the charts now hold every bucket before this second


def load_since(db: Session, store: TimeseriesStore, user_id: int, node_id: object, preset: str,
               width: int, through: int, now: float) -> LiveUpdate:
    """Buckets of `width` in [through, live cutoff) and the numbers of the preset's window now.

    `through` comes from the browser: it is clamped to the window, so a forged or stale value
    costs at most one window's worth of buckets.
    """
    node = view(owned(db, user_id, node_id))
    span = PRESETS[preset]
    cutoff = live_cutoff(now, width)
    since = min(max(through, (int(now) + 1 - span) // width * width), cutoff)
    series = {}
    if cutoff > since:
        points = (cutoff - since) // width
        series = {name: store.series(node.node_id, name, since, cutoff, points) for name in NAMES}
    numbers = _numbers(store, node.node_id, int(now) + 1 - span, int(now) + 1)
    return LiveUpdate(node, series, numbers, max(since, cutoff))
