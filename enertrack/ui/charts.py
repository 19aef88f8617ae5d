"""Node dashboard charts: a min-max band and a mean line per magnitude (pure figure building).

Figures are plain dicts (no plotly validation of thousands of points on every draw); the
colours come from the magnitude's place in the magnitudes table, units from the table too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.colors import hex_to_rgb, qualitative

from enertrack.magnitudes import MAGNITUDES, Magnitude
from enertrack.ui.plot_theme import apply_theme

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


@dataclass(frozen=True, slots=True)
class Points:
    """Trace arrays of one magnitude; a None entry breaks the lines at a gap.

    owner[i] is the bucket start an entry belongs to (a gap break belongs to the point after
    it), so the live view knows how many entries to drop when old buckets leave the window.
    """

    owner: list[int] = field(default_factory=list)
    x: list[str | None] = field(default_factory=list)
    low: list[float | None] = field(default_factory=list)
    high: list[float | None] = field(default_factory=list)
    mean: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.owner)


def local_times(ts: np.ndarray, tz: str) -> list[str]:
    """Epoch seconds as local wall-clock ISO strings (a date axis has no timezone of its own)."""
    local = pd.to_datetime(ts, unit="s", utc=True).tz_convert(tz).tz_localize(None)
    return np.datetime_as_string(local.to_numpy().astype("datetime64[s]"), unit="s").tolist()


def _values(column: pd.Series, decimals: int, breaks: np.ndarray) -> list[float | None]:
    values = np.round(column.to_numpy(dtype=np.float64), decimals).astype(object)
    values[pd.isna(values)] = None
    return np.insert(values, breaks, None).tolist()


def points(frame: pd.DataFrame, magnitude: Magnitude, tz: str, gap_s: int, after: int | None = None) -> Points:
    """Arrays of a series frame, with a break wherever buckets are more than gap_s apart.

    after: the last bucket already drawn (live appends), so a gap before the first new
    bucket breaks the line too.
    """
    if frame.empty:
        return Points()
    ts = frame["ts"].to_numpy(dtype=np.int64)
    previous = np.r_[ts[0] if after is None else after, ts[:-1]]
    breaks = np.flatnonzero(ts - previous > gap_s)
    decimals = magnitude.decimals + 1  # one more than the cards: the shape, not noise
    x = np.insert(np.array(local_times(ts, tz), dtype=object), breaks, None).tolist()
    return Points(
        owner=np.insert(ts, breaks, ts[breaks]).tolist(),
        x=x,
        low=_values(frame["min"], decimals, breaks),
        high=_values(frame["max"], decimals, breaks),
        mean=_values(frame["mean"], decimals, breaks),
    )


@lru_cache(maxsize=4)
def _themed_layout(theme: str) -> dict[str, Any]:
    """The layout apply_theme gives, as a plain dict (built once per theme)."""
    return apply_theme(go.Figure(), theme).to_plotly_json()["layout"]


def theme_name(theme: Any) -> str:
    """'dark' or 'light' from an untrusted store value."""
    return "dark" if theme == "dark" else "light"


@dataclass(frozen=True, slots=True)
class Labels:
    """Translated words the figure shows."""

    maximum: str
    minimum: str
    mean: str
    empty: str


def _trace(name: str, x: list[Any], y: list[Any], hover: str, **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y,
            "hovertemplate": hover, "showlegend": False, **style}


def empty_annotation(text: str) -> dict[str, Any]:
    """The note shown on a chart with no readings in its range."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "showarrow": False, "font": {"size": 13}, "opacity": 0.7}


def magnitude_figure(data: Points, magnitude: Magnitude, labels: Labels, theme: Any,
                     uirevision: str) -> dict[str, Any]:
    """The figure of one magnitude: a translucent min-max band and the mean line over it."""
    unit = f" {magnitude.unit}" if magnitude.unit else ""
    hover = f"%{{fullData.name}}: %{{y:,.{magnitude.decimals + 1}f}}{unit}<extra></extra>"
    line = color(magnitude)
    traces = [
        _trace(labels.maximum, data.x, data.high, hover, line={"width": 0, "color": line}),
        _trace(labels.minimum, data.x, data.low, hover, line={"width": 0, "color": line},
               fill="tonexty", fillcolor=band_color(magnitude)),
        _trace(labels.mean, data.x, data.mean, hover, line={"width": 1.5, "color": line}),
    ]
    base = _themed_layout(theme_name(theme))
    layout = {
        **base,
        "height": HEIGHT_PX,
        "margin": {"l": 56, "r": 12, "t": 8, "b": 32},
        "showlegend": False,
        "uirevision": uirevision,
        "xaxis": {**base.get("xaxis", {}), "type": "date"},
        "yaxis": {**base.get("yaxis", {}), "title": {"text": magnitude.unit}},
        "annotations": [] if len(data) else [empty_annotation(labels.empty)],
    }
    return {"data": traces, "layout": layout}


def append(patch: Patch, data: Points) -> None:
    """Add new points at the end of the three traces (what a live tick sends)."""
    if not data:
        return
    for trace, values in ((TRACE_MAX, data.high), (TRACE_MIN, data.low), (TRACE_MEAN, data.mean)):
        patch["data"][trace]["x"].extend(data.x)
        patch["data"][trace]["y"].extend(values)


def drop_oldest(patch: Patch, count: int) -> None:
    """Remove the first `count` entries of every trace (buckets that left a live window)."""
    for _ in range(count):
        for trace in TRACES:
            del patch["data"][trace]["x"][0]
            del patch["data"][trace]["y"][0]


def retheme(patch: Patch, theme: Any) -> None:
    """Switch a drawn figure to the light or dark layout without touching its data."""
    layout = _themed_layout(theme_name(theme))
    for key in ("template", "font", "paper_bgcolor", "plot_bgcolor"):
        patch["layout"][key] = layout[key]
    for axis in ("xaxis", "yaxis"):
        patch["layout"][axis]["gridcolor"] = layout[axis]["gridcolor"]
