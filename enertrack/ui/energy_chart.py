"""The analysis chart: kWh per period stacked by node, with the total (pure figure building)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from enertrack.ui.plot_theme import apply_theme

HOVER_FORMAT = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def energy_figure(table: pd.DataFrame, period: str, theme: Any, total_label: str,
                  price: float | None = None, currency: str = "") -> go.Figure:
    """Stacked bars per node and a total line; hover shows cost when there is a tariff."""
    figure = go.Figure()
    x = table.index.tz_localize(None) if table.index.tz is not None else table.index
    palette = qualitative.Plotly
    hover = "%{y:.3f} kWh" + (f" · %{{customdata:.2f}} {currency}" if price is not None else "")
    for i, node in enumerate(table.columns):
        values = table[node]
        figure.add_bar(x=x, y=values, name=str(node), marker_color=palette[i % len(palette)],
                       customdata=(values * price) if price is not None else None, hovertemplate=hover)
    total = table.sum(axis=1)
    figure.add_scatter(x=x, y=total, name=total_label, mode="lines+markers" if len(total) <= 60 else "lines",
                       line={"color": "#f5a524", "width": 2},
                       customdata=(total * price) if price is not None else None, hovertemplate=hover)
    figure.update_layout(barmode="stack", yaxis_title="kWh", bargap=0.15)
    figure.update_xaxes(hoverformat=HOVER_FORMAT.get(period, "%Y-%m-%d %H:%M"))
    return apply_theme(figure, theme)
