"""The panel's chart of today: power through the day (total and per node) over energy by hour.

Like Home Assistant's energy dashboard: one compact figure, two stacked plots sharing the
day's wall-clock axis. A live tick patches it (Patch) instead of drawing it again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import Patch
from plotly.colors import qualitative

from enertrack.numerals import separators
from enertrack.web.services.panel_today import EnergyToday, PowerToday
from enertrack.web.ui.compact import wall_ms
from enertrack.web.ui.plot_theme import themed_layout

HEIGHT_PX = 300
TOTAL_COLOR = "#f5a524"
PALETTE = qualitative.Plotly
TOTAL, FIRST_NODE = 0, 1  # trace order: total power, each node's power, then the energy bars
# Nothing drawn yet: transparent, so dark mode never flashes white.
BLANK = {"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                                "xaxis": {"visible": False}, "yaxis": {"visible": False}, "height": HEIGHT_PX}}


def _x(ts: np.ndarray, tz: str) -> list[float]:
    return wall_ms(ts, tz).tolist()


def _values(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values.tolist()]


def hour_bars(energy: EnergyToday, tz: str) -> tuple[list[float], list[float]]:
    """x (each local hour's middle) and kWh; the hour clocks repeat when they go back is one bar."""
    starts = wall_ms(np.asarray(energy.hours[:-1]), tz)
    merged: dict[float, float] = {}
    for start, kwh in zip(starts.tolist(), energy.kwh.tolist(), strict=True):
        merged[start + 1_800_000] = merged.get(start + 1_800_000, 0.0) + kwh
    return list(merged), [round(v, 4) for v in merged.values()]


def today_figure(power: PowerToday, energy: EnergyToday, tz: str, theme: Any, lang: str,
                 words: dict[str, str]) -> dict[str, Any]:
    """The figure; words: translated 'total', 'power', 'energy' (axis and legend labels)."""
    x = _x(power.ts, tz)
    watts = "%{y:,.0f} W<extra>%{fullData.name}</extra>"
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": words["total"], "x": x, "y": _values(power.total),
         "line": {"color": TOTAL_COLOR, "width": 2.5}, "hovertemplate": watts},
    ]
    for i, (node, values) in enumerate(power.nodes.items()):
        traces.append({"type": "scatter", "mode": "lines", "name": node, "x": list(x), "y": _values(values),
                       "line": {"color": PALETTE[i % len(PALETTE)], "width": 1}, "hovertemplate": watts})
    bars_x, kwh = hour_bars(energy, tz)
    traces.append({"type": "bar", "name": words["energy"], "x": bars_x, "y": kwh, "xaxis": "x2", "yaxis": "y2",
                   "marker": {"color": TOTAL_COLOR}, "opacity": 0.8, "showlegend": False,
                   "hovertemplate": "%{y:,.3f} kWh<extra></extra>"})
    day = wall_ms(np.asarray([energy.hours[0], energy.hours[-1]]), tz).tolist()
    base = themed_layout(theme)
    axis = base.get("xaxis", {})
    layout = {
        **base,
        "separators": separators(lang),
        "height": HEIGHT_PX,
        "margin": {"l": 56, "r": 12, "t": 8, "b": 28},
        "hovermode": "x",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"},
        "xaxis": {**axis, "type": "date", "range": day, "matches": "x2", "showticklabels": False},
        "xaxis2": {**axis, "type": "date", "range": day, "anchor": "y2"},
        "yaxis": {**base.get("yaxis", {}), "domain": [0.4, 1], "title": {"text": "W"}, "rangemode": "tozero"},
        "yaxis2": {**base.get("yaxis", {}), "domain": [0, 0.32], "title": {"text": "kWh"}, "rangemode": "tozero"},
        "bargap": 0.1,
    }
    return {"data": traces, "layout": layout}


def patch_today(power: PowerToday, energy: EnergyToday, tz: str, drawn: int) -> Patch:
    """A tick: power from the last bucket drawn on (it was still filling) replaces the chart's
    entries from index drawn - 1; every hour's energy is set again (24 numbers)."""
    patch = Patch()
    x = _x(power.ts, tz)
    series = [power.total, *power.nodes.values()]
    for trace, values in enumerate(series):
        if drawn:
            del patch["data"][trace]["x"][drawn - 1]
            del patch["data"][trace]["y"][drawn - 1]
        patch["data"][trace]["x"].extend(x)
        patch["data"][trace]["y"].extend(_values(values))
    patch["data"][len(series)]["y"] = hour_bars(energy, tz)[1]
    return patch


def retheme_today(patch: Patch, theme: Any) -> None:
    """Light or dark layout for a drawn chart, its data untouched."""
    layout = themed_layout(theme)
    for key in ("template", "font", "paper_bgcolor", "plot_bgcolor"):
        patch["layout"][key] = layout[key]
    for axis in ("xaxis", "xaxis2"):
        patch["layout"][axis]["gridcolor"] = layout["xaxis"]["gridcolor"]
    for axis in ("yaxis", "yaxis2"):
        patch["layout"][axis]["gridcolor"] = layout["yaxis"]["gridcolor"]
