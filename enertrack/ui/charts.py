"""Node dashboard charts: a min-max band and a mean line per magnitude (pure figure building).

Figures are plain dicts (no plotly validation of thousands of points on every draw); the
colours come from the magnitude's place in the magnitudes table, units from the table too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from dash import Patch
from plotly.colors import hex_to_rgb, qualitative

from enertrack.magnitudes import MAGNITUDES, Magnitude
from enertrack.ui.plot_theme import themed_layout

TRACE_MAX, TRACE_MIN, TRACE_MEAN = 0, 1, 2  # the band is drawn from max down to min, then the mean
TRACES = (TRACE_MAX, TRACE_MIN, TRACE_MEAN)
HEIGHT_PX = 260
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

    The same tolerance as the node status rule (max(3 x interval, 30 s)) on top of a bucket.
    """
    return width + max(3 * interval_s, 30)


_NO_TIMES = np.array([], dtype="datetime64[s]")
_NO_VALUES = np.array([], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Points:
    """Trace arrays of one magnitude; a NaN value breaks the lines at a gap.

    numpy arrays, because plotly hands those to orjson whole instead of walking every
    element (the draw of six charts would otherwise spend most of its time there).
    owner[i] is the bucket start an entry belongs to (a gap break belongs to the point after
    it, and sits at its time), so the live view knows how many entries to drop later.
    """

    owner: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    x: np.ndarray = field(default_factory=lambda: _NO_TIMES)  # local wall-clock datetime64[s]
    low: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    high: np.ndarray = field(default_factory=lambda: _NO_VALUES)
    mean: np.ndarray = field(default_factory=lambda: _NO_VALUES)

    def __len__(self) -> int:
        return int(self.owner.size)

    def x_text(self) -> list[str]:
        """x as the ISO strings the browser receives."""
        return np.datetime_as_string(self.x, unit="s").tolist()


def local_times(ts: np.ndarray, tz: str) -> np.ndarray:
    """Epoch seconds as local wall-clock datetime64[s] (a date axis has no timezone of its own)."""
    local = pd.to_datetime(ts, unit="s", utc=True).tz_convert(tz).tz_localize(None)
    return local.to_numpy().astype("datetime64[s]")


def points(frame: pd.DataFrame | None, magnitude: Magnitude, tz: str, gap_s: int,
           after: int | None = None) -> Points:
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
        x=local_times(np.insert(ts, where, np.column_stack([previous[breaks], ts[breaks]]).ravel()), tz),
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


def _range_of(data: Points) -> np.ndarray:
    """[min, max] per entry: what the mean line's hover shows beside the mean."""
    return np.column_stack([data.low, data.high])


def time_span(start: int, end: int, tz: str) -> list[str]:
    """A fixed x-axis range [start, end] in local wall-clock time."""
    return np.datetime_as_string(local_times(np.array([start, end]), tz), unit="s").tolist()


def magnitude_figure(data: Points, magnitude: Magnitude, labels: Labels, theme: Any,
                     uirevision: str, x_range: list[str] | None = None) -> dict[str, Any]:
    """The figure of one magnitude: a translucent min-max band and the mean line over it.

    x_range: the whole range asked for, so missing data shows as missing; None lets the
    axis follow the data (live charts, whose window slides).
    """
    unit = f" {magnitude.unit}" if magnitude.unit else ""
    number = f":,.{magnitude.decimals + 1}f}}{unit}"
    hover = (f"{labels.mean}: %{{y{number}<br>{labels.maximum}: %{{customdata[1]{number}"
             f"<br>{labels.minimum}: %{{customdata[0]{number}<extra></extra>")
    line = color(magnitude)
    band = {"line": {"width": 0, "color": line}, "hoverinfo": "skip"}
    traces = [
        _trace(labels.maximum, data.x, data.high, **band),
        _trace(labels.minimum, data.x, data.low, fill="tonexty", fillcolor=band_color(magnitude), **band),
        _trace(labels.mean, data.x, data.mean, line={"width": 1.5, "color": line}, hovertemplate=hover,
               customdata=_range_of(data)),
    ]
    base = themed_layout(theme)
    empty = not len(data)
    layout = {
        **base,
        "height": HEIGHT_PX,
        "margin": {"l": 56, "r": 12, "t": 8, "b": 32},
        "showlegend": False,
        "uirevision": uirevision,
        "xaxis": {**base.get("xaxis", {}), "type": "date", "visible": not empty,
                  **({"range": x_range} if x_range else {})},
        "yaxis": {**base.get("yaxis", {}), "title": {"text": magnitude.unit}, "visible": not empty},
        "annotations": [empty_annotation(labels.empty)] if empty else [],
    }
    return {"data": traces, "layout": layout}


def mark_empty(patch: Patch, empty: bool, text: str) -> None:
    """Show or hide the 'no readings' note and the axes of a drawn chart."""
    patch["layout"]["annotations"] = [empty_annotation(text)] if empty else []
    patch["layout"]["xaxis"]["visible"] = not empty
    patch["layout"]["yaxis"]["visible"] = not empty


def append(patch: Patch, data: Points) -> None:
    """Add new points at the end of the three traces (what a live tick sends)."""
    if not data:
        return
    x = data.x_text()
    for trace, values in ((TRACE_MAX, data.high), (TRACE_MIN, data.low), (TRACE_MEAN, data.mean)):
        patch["data"][trace]["x"].extend(x)
        patch["data"][trace]["y"].extend(values.tolist())  # NaN travels as null
    patch["data"][TRACE_MEAN]["customdata"].extend(_range_of(data).tolist())


def drop_oldest(patch: Patch, count: int) -> None:
    """Remove the first `count` entries of every trace (buckets that left a live window)."""
    for _ in range(count):
        for trace in TRACES:
            del patch["data"][trace]["x"][0]
            del patch["data"][trace]["y"][0]
        del patch["data"][TRACE_MEAN]["customdata"][0]


def retheme(patch: Patch, theme: Any) -> None:
    """Switch a drawn figure to the light or dark layout without touching its data."""
    layout = themed_layout(theme)
    for key in ("template", "font", "paper_bgcolor", "plot_bgcolor"):
        patch["layout"][key] = layout[key]
    for axis in ("xaxis", "yaxis"):
        patch["layout"][axis]["gridcolor"] = layout[axis]["gridcolor"]
