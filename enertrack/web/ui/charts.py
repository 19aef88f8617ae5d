"""Node dashboard charts: a min-max band and a mean line per magnitude (pure figure building).

Figures are plain dicts (no plotly validation of thousands of points on every draw); the
colours come from the magnitude's place in the magnitudes table, units from the table too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from dash import Patch
from plotly.colors import hex_to_rgb, qualitative

from enertrack.core.magnitudes import MAGNITUDES, Magnitude
from enertrack.core.status import active_window
from enertrack.numerals import separators
from enertrack.web.ui import fmt
from enertrack.web.ui.compact import typed, wall_ms
from enertrack.web.ui.plot_theme import themed_layout

TRACE_MAX, TRACE_MIN, TRACE_MEAN = 0, 1, 2  # the band is drawn from max down to min, then the mean
TRACES = (TRACE_MAX, TRACE_MIN, TRACE_MEAN)
HEIGHT_PX = 260
# Room for the axes' labels as drawn for the demo's magnitudes: y ticks like "50,02" under the
# unit's title, x ticks of two lines (time, then date). The template's automargin grows a margin
# that is too small, but only with a second layout pass: that pass was 40 % of a chart's drawing.
MARGIN = {"l": 64, "r": 12, "t": 8, "b": 40}
# Colours suited to both themes, one per magnitude in table order.
PALETTE = qualitative.Plotly


def color(magnitude: Magnitude) -> str:
    """The magnitude's line colour (hex)."""
    return PALETTE[MAGNITUDES.index(magnitude) % len(PALETTE)]


def band_color(magnitude: Magnitude, alpha: float = 0.25) -> str:
    """The min-max band's fill: the line colour, translucent."""
    red, green, blue = hex_to_rgb(color(magnitude))
    return f"rgba({red},{green},{blue},{alpha})"


def gap_seconds(width: int, interval_s: int) -> int:
    """Buckets further apart than this are a gap in the data: the lines break there.

    The same tolerance as the node status rule (core.status.active_window) on top of a bucket.
    """
    return width + active_window(interval_s)


_NO_SECONDS = np.array([], dtype=np.int64)
_NO_VALUES = np.array([], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Points:
    """Trace arrays of one magnitude; a NaN value breaks the lines at a gap.

    numpy arrays, because plotly hands those to orjson whole instead of walking every
    element (the draw of six charts would otherwise spend most of its time there).
    owner[i] is the bucket start an entry belongs to (a gap break belongs to the point after
    it, and sits at its time), so the live view knows how many entries to drop later; at[i]
    is the epoch second where the entry is drawn (a TimeAxis turns it into an x value).
    """

    owner: np.ndarray = field(default_factory=lambda: _NO_SECONDS)
    at: np.ndarray = field(default_factory=lambda: _NO_SECONDS)
    low: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    high: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    mean: np.ndarray = field(default_factory=lambda: _NO_VALUES)

    def __len__(self) -> int:
        return int(self.owner.size)


def local_times(ts: np.ndarray, tz: str) -> np.ndarray:
    """Epoch seconds as local wall-clock datetime64[s] (a date axis has no timezone of its own)."""
    local = pd.to_datetime(ts, unit="s", utc=True).tz_convert(tz).tz_localize(None)
    return local.to_numpy().astype("datetime64[s]")


def _offset_labels(ts: np.ndarray, local: np.ndarray) -> np.ndarray:
    """' +02' / ' +05:45' for each instant, from its local wall clock."""
    offsets = local.astype(np.int64) - ts
    text = {}
    for offset in np.unique(offsets).tolist():
        sign, minutes = ("+" if offset >= 0 else "-"), abs(offset) // 60
        text[offset] = " " + fmt.utc_offset(f"{sign}{minutes // 60:02d}{minutes % 60:02d}")
    return np.array([text[o] for o in offsets.tolist()], dtype=object)


def _repeated(at: np.ndarray, tz: str, around: tuple[int, int]) -> np.ndarray:
    """True where an instant's local time also names another instant (clocks went back over it).

    An instant at offset o shares its wall clock with t + o - o2 when that instant is at offset
    o2; the offsets tried are those of the instants and of the moments `around` them.
    """
    at = at.astype(np.int64)
    offsets = local_times(at, tz).astype(np.int64) - at
    edges = np.array(around, dtype=np.int64)
    repeated = np.zeros(at.shape, dtype=bool)
    for other in np.unique(np.r_[offsets, local_times(edges, tz).astype(np.int64) - edges]).tolist():
        twin = at + offsets - other
        repeated |= (offsets != other) & (local_times(twin, tz).astype(np.int64) - twin == other)
    return repeated


# Tick spacings of an axis labelled here, smallest first; sub-day ones divide a day.
TICK_STEPS_S = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)  # fmt: skip
MOST_TICKS = 8
OFFSET_GRID_S = 900  # every real timezone offset is a multiple of 15 minutes


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Where a node chart puts time: local wall clock, or real instants labelled in local time.

    Plotly's date axes know no timezone. On the wall clock (instants=False) plotly picks the
    ticks and the hover labels itself, and that is right whenever local time only moves
    forward over the chart: every day but the one when clocks go back. When they go back
    inside the range at buckets of an hour or less, wall-clock points would step backwards
    and retrace the repeated hour; then x is the real instant (UTC), the ticks are written
    here in local time (fixed: zooming in shows fewer of them), and each point's hover tells
    its local time and offset, under a UTC title.
    """

    tz: str
    start: int
    end: int
    fixed: bool  # the axis shows exactly [start, end]; live charts follow their data
    instants: bool = False

    def x(self, at: np.ndarray) -> np.ndarray:
        """x values of epoch seconds."""
        return at.astype("datetime64[s]") if self.instants else local_times(at, self.tz)

    def x_ms(self, at: np.ndarray) -> np.ndarray:
        """x values as plotly's date axis reads numbers: milliseconds, shown as they are (compact.py)."""
        return at.astype(np.float64) * 1000 if self.instants else wall_ms(at, self.tz)

    def x_text(self, at: np.ndarray) -> list[str]:
        """x values as the ISO strings the browser receives."""
        return np.datetime_as_string(self.x(at), unit="s").tolist()

    def hover_text(self, at: np.ndarray) -> np.ndarray:
        """Local time and offset of each instant, '2026-10-25 02:30:00 +02' (instants only)."""
        if not at.size:
            return np.array([], dtype=object)
        local = local_times(at, self.tz)
        iso = np.char.replace(np.datetime_as_string(local, unit="s"), "T", " ").astype(object)
        return iso + _offset_labels(at.astype(np.int64), local)

    def ticks(self) -> tuple[list[str], list[str]]:
        """(tickvals, ticktext): local round times across [start, end], at most about MOST_TICKS."""
        span = max(self.end - self.start, 1)
        step = next((s for s in TICK_STEPS_S if span / s <= MOST_TICKS), TICK_STEPS_S[-1])
        grid = math.gcd(step, OFFSET_GRID_S) if step < 86400 else OFFSET_GRID_S
        candidates = np.arange(-(-self.start // grid) * grid, self.end + 1, grid, dtype=np.int64)
        wall = local_times(candidates, self.tz).astype(np.int64)
        if step < 86400:
            keep = wall % step == 0
        else:
            keep = (wall % 86400 == 0) & ((wall // 86400) % (step // 86400) == 0)
        at, wall = candidates[keep], wall[keep]
        local = wall.astype("datetime64[s]")
        days = np.datetime_as_string(local, unit="D").astype(object)
        if step >= 86400:
            return self.x_text(at), days.tolist()
        clock = np.array([t[11:16] for t in np.datetime_as_string(local, unit="m").tolist()], dtype=object)
        repeated = _repeated(at, self.tz, (self.start - 86400, self.end + 86400))
        if repeated.any():  # a local time that names two instants: say which one
            clock[repeated] = clock[repeated] + _offset_labels(at[repeated], local[repeated])
        new_day = np.r_[True, days[1:] != days[:-1]] if days.size else np.array([], dtype=bool)
        return self.x_text(at), np.where(new_day, clock + "<br>" + days, clock).tolist()

    def layout(self) -> dict[str, Any]:
        """The x-axis settings of this way of drawing time."""
        axis: dict[str, Any] = {"type": "date"}
        if self.fixed:
            axis["range"] = self.x_text(np.array([self.start, self.end], dtype=np.int64))
        if self.instants:
            tickvals, ticktext = self.ticks()
            axis |= {"tickmode": "array", "tickvals": tickvals, "ticktext": ticktext,
                     "hoverformat": "%Y-%m-%d %H:%M:%S UTC"}
        return axis


def time_axis(tz: str, start: int, end: int, width: int, fixed: bool) -> TimeAxis:
    """The wall clock when local time only moves forward across [start, end) at this bucket
    width, real instants otherwise (see TimeAxis)."""
    buckets = np.arange(start // width * width, max(end, start + 1), width, dtype=np.int64)
    wall = local_times(buckets, tz).astype(np.int64)
    return TimeAxis(tz, start, end, fixed, instants=bool(np.any(np.diff(wall) <= 0)))


def points(frame: pd.DataFrame | None, magnitude: Magnitude, gap_s: int, after: int | None = None) -> Points:
    """Arrays of a series frame, with a break wherever buckets are more than gap_s apart.

    A break is two entries: the band closes at the previous point's time and reopens at the
    next point's, both on the next point's mean, so its fill never bridges the gap (plotly's
    "tonexty" fill ignores missing values); the mean line has no value there and breaks.
    after: the last bucket already drawn (live appends), so a gap before the first new
    bucket breaks the lines too.
    """
    if frame is None or frame.empty:
        return Points()
    ts = frame["ts"].to_numpy(dtype=np.int64)
    previous = np.r_[ts[0] if after is None else after, ts[:-1]]
    breaks = np.flatnonzero(ts - previous > gap_s)
    decimals = magnitude.decimals + 1  # one more than the cards: the shape, not noise
    low, high, mean = (np.round(frame[c].to_numpy(dtype=np.float64), decimals) for c in ("min", "max", "mean"))
    where = np.repeat(breaks, 2)
    closed = np.repeat(mean[breaks], 2)
    return Points(
        owner=np.insert(ts, where, np.repeat(ts[breaks], 2)),
        at=np.insert(ts, where, np.column_stack([previous[breaks], ts[breaks]]).ravel()),
        low=np.insert(low, where, closed),
        high=np.insert(high, where, closed),
        mean=np.insert(mean, where, np.nan),
    )


@dataclass(frozen=True, slots=True)
class Labels:
    """Translated words the figure shows."""

    maximum: str
    minimum: str
    mean: str
    empty: str


def _trace(name: str, x: np.ndarray, y: np.ndarray, **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y, "showlegend": False, **style}


def empty_annotation(text: str) -> dict[str, Any]:
    """The note shown on a chart with no readings in its range."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "showarrow": False, "font": {"size": 13}, "opacity": 0.7}


def x_values(data: Points, axis: TimeAxis) -> np.ndarray:
    """x of every entry in ms; a gap's closing entries sit 1 ms inside the gap, so hovering over
    the point beside it finds that point's band, not the closing one at the same time."""
    x = axis.x_ms(data.at)
    if x.size > 1:
        same_as_next = np.r_[data.at[:-1] == data.at[1:], False]
        same_as_previous = np.r_[False, data.at[1:] == data.at[:-1]]
        closing = np.isnan(data.mean)
        x = x + np.where(closing & same_as_previous, 1.0, 0.0) - np.where(closing & same_as_next, 1.0, 0.0)
    return x


def magnitude_figure(data: Points, magnitude: Magnitude, labels: Labels, theme: Any, uirevision: str,
                     axis: TimeAxis, lang: str) -> dict[str, Any]:
    """The figure of one magnitude: a translucent min-max band and the mean line over it.

    axis: where time goes (a fixed range shows missing data as missing; live ones slide);
    numbers on the axis and in the hover use lang's decimal and thousands separators.
    """
    unit = f" {magnitude.unit}" if magnitude.unit else ""
    number = f":,.{magnitude.decimals + 1}f}}{unit}"
    # Each trace tells its own value in the unified hover: no copy of the band in the mean's data.
    hover = {name: f"{word}: %{{y{number}<extra></extra>"
             for name, word in (("max", labels.maximum), ("min", labels.minimum), ("mean", labels.mean))}
    x: Any = x_values(data, axis)
    # Nothing is appended to a fixed range: its x travels as a typed array. Dash's Patch cannot
    # extend one, so a live chart's x is a plain list of whole milliseconds.
    x = typed(x) if axis.fixed else x.astype(np.int64)
    mean_extra: dict[str, Any] = {}
    if axis.instants:  # the hover title is UTC there: each point tells its local time
        hover["mean"] = "%{text}<br>" + hover["mean"]
        mean_extra["text"] = axis.hover_text(data.at)
    line = color(magnitude)
    band = {"line": {"width": 0, "color": line}}
    traces = [
        _trace(labels.maximum, x, data.high, hovertemplate=hover["max"], **band),
        _trace(labels.minimum, x, data.low, fill="tonexty", fillcolor=band_color(magnitude),
               hovertemplate=hover["min"], **band),
        _trace(labels.mean, x, data.mean, line={"width": 1.5, "color": line}, hovertemplate=hover["mean"],
               **mean_extra),
    ]
    base = themed_layout(theme)
    empty = not len(data)
    layout = {
        **base,
        "separators": separators(lang),
        "height": HEIGHT_PX,
        "margin": {**MARGIN},
        "showlegend": False,
        "uirevision": uirevision,
        "xaxis": {**base.get("xaxis", {}), **axis.layout(), "visible": not empty},
        "yaxis": {**base.get("yaxis", {}), "title": {"text": magnitude.unit}, "visible": not empty},
        "annotations": [empty_annotation(labels.empty)] if empty else [],
    }
    return {"data": traces, "layout": layout}


def mark_empty(patch: Patch, empty: bool, text: str) -> None:
    """Show or hide the 'no readings' note and the axes of a drawn chart."""
    patch["layout"]["annotations"] = [empty_annotation(text)] if empty else []
    patch["layout"]["xaxis"]["visible"] = not empty
    patch["layout"]["yaxis"]["visible"] = not empty


def append(patch: Patch, data: Points, axis: TimeAxis) -> None:
    """Add new points at the end of the three traces (what a live tick sends)."""
    if not data:
        return
    x = x_values(data, axis).astype(np.int64).tolist()
    for trace, values in ((TRACE_MAX, data.high), (TRACE_MIN, data.low), (TRACE_MEAN, data.mean)):
        patch["data"][trace]["x"].extend(x)
        patch["data"][trace]["y"].extend(values.tolist())  # NaN travels as null
    if axis.instants:
        patch["data"][TRACE_MEAN]["text"].extend(axis.hover_text(data.at).tolist())


def drop_oldest(patch: Patch, count: int, axis: TimeAxis) -> None:
    """Remove the first `count` entries of every trace (buckets that left a live window)."""
    for _ in range(count):
        for trace in TRACES:
            del patch["data"][trace]["x"][0]
            del patch["data"][trace]["y"][0]
        if axis.instants:
            del patch["data"][TRACE_MEAN]["text"][0]


def retick(patch: Patch, axis: TimeAxis) -> None:
    """Local tick labels for a live window that moved (only an axis of instants has them)."""
    if axis.instants:
        tickvals, ticktext = axis.ticks()
        patch["layout"]["xaxis"]["tickvals"] = tickvals
        patch["layout"]["xaxis"]["ticktext"] = ticktext


def retheme(patch: Patch, theme: Any) -> None:
    """Switch a drawn figure to the light or dark layout without touching its data."""
    layout = themed_layout(theme)
    for key in ("template", "font", "paper_bgcolor", "plot_bgcolor"):
        patch["layout"][key] = layout[key]
    for axis in ("xaxis", "yaxis"):
        patch["layout"][axis]["gridcolor"] = layout[axis]["gridcolor"]
