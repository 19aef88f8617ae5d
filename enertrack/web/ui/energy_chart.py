"""The analysis chart: kWh per period stacked by node, with the total (pure figure building).

A plain dict with numpy arrays, like the node charts: plotly's graph objects validated every
property of the bar trace of each node, which cost 50 nodes' chart ~70 ms of its ~110 ms.

Hours sit on a category axis, one slot per period: plotly's date axes have no timezone, so on
the day clocks go back the two local 02:00 hours would share one x and stack into one bar.
Days, months and years start at distinct local midnights and keep a date axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from plotly.colors import qualitative

from enertrack.numerals import separators
from enertrack.web.ui.fmt import utc_offset
from enertrack.web.ui.plot_theme import themed_layout

HOVER_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
HOUR_LABEL = "%Y-%m-%d %H:%M"
TOTAL_COLOR = "#f5a524"
PALETTE = qualitative.Plotly
MARKERS_UP_TO = 60  # periods: beyond this the total line's markers only add noise
# The legend (one entry per node) goes under the chart: above it, on a phone's width it wraps
# into the top-right corner, where plotly's mode bar covers it.
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"}


def _wall_clock(index: pd.Index) -> np.ndarray:
    """Period starts as local wall-clock datetime64[s] (a date axis has no timezone of its own)."""
    times = pd.DatetimeIndex(index)
    if times.tz is not None:
        times = times.tz_localize(None)
    return times.to_numpy().astype("datetime64[s]")


def hour_labels(index: pd.Index) -> list[str]:
    """One distinct label per hour period: local '2026-10-25 02:00', and when clocks go back
    the two readings of the repeated hour carry their offsets ('02:00 +02', '02:00 +01')."""
    times = pd.DatetimeIndex(index)
    labels = np.asarray(times.strftime(HOUR_LABEL), dtype=object)
    repeated = pd.Index(labels).duplicated(keep=False)
    if times.tz is not None and repeated.any():
        offsets = [utc_offset(z) for z in times[repeated].strftime("%z")]
        labels[repeated] = [f"{label} {offset}" for label, offset in zip(labels[repeated], offsets, strict=True)]
    return labels.tolist()


def _x_axis(index: pd.Index, period: str) -> tuple[Any, dict[str, Any]]:
    """The x values and axis settings of a period."""
    if period == "hour":
        return hour_labels(index), {"type": "category"}
    return _wall_clock(index), {"type": "date", "hoverformat": HOVER_FORMAT.get(period, "%Y-%m-%d")}


def energy_figure(table: pd.DataFrame, period: str, theme: Any, total_label: str,
                  price: float | None = None, currency: str = "", *, lang: str,
                  costs: pd.DataFrame | None = None) -> dict[str, Any]:
    """Stacked bars per node and a total line; hover shows cost when there is a tariff.

    costs (the table's shape: each node at its own site's tariffs) wins over one flat price.
    Numbers on the axis and in the hover use lang's decimal and thousands separators.
    """
    x, axis = _x_axis(table.index, period)
    shown = costs is not None or price is not None
    hover = "%{y:,.3f} kWh" + (f" · %{{customdata:,.2f}} {currency}" if shown else "")

    def cost(values: np.ndarray, node: Any = None) -> dict[str, Any]:
        if costs is not None:
            if node is None:
                return {"customdata": costs.to_numpy(dtype=np.float64).sum(axis=1) if len(costs.columns)
                        else np.zeros(len(costs.index))}
            column = costs[node] if node in costs.columns else pd.Series(0.0, index=costs.index)
            return {"customdata": column.to_numpy(dtype=np.float64)}
        return {"customdata": values * price} if price is not None else {}

    traces: list[dict[str, Any]] = []
    for i, node in enumerate(table.columns):
        values = table[node].to_numpy(dtype=np.float64)
        traces.append({"type": "bar", "x": x, "y": values, "name": str(node),
                       "marker": {"color": PALETTE[i % len(PALETTE)]}, "hovertemplate": hover,
                       **cost(values, node)})
    total = table.to_numpy(dtype=np.float64).sum(axis=1) if len(table.columns) else np.zeros(len(table.index))
    traces.append({"type": "scatter", "x": x, "y": total, "name": total_label,
                   "mode": "lines+markers" if len(total) <= MARKERS_UP_TO else "lines",
                   "line": {"color": TOTAL_COLOR, "width": 2}, "hovertemplate": hover, **cost(total)})
    base = themed_layout(theme)
    layout = {
        **base,
        "separators": separators(lang),
        "barmode": "stack",
        "bargap": 0.15,
        "legend": LEGEND_BELOW,
        "xaxis": {**base.get("xaxis", {}), **axis},
        "yaxis": {**base.get("yaxis", {}), "title": {"text": "kWh"}},
    }
    return {"data": traces, "layout": layout}
