"""Plotly layout for light and dark colour modes, matching Bootstrap's body colours."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

_BASE: dict[str, Any] = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "margin": {"l": 48, "r": 16, "t": 32, "b": 40},
    "hovermode": "x unified",
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
}


def apply_theme(figure: go.Figure, theme: Any) -> go.Figure:
    """Dark template with transparent backgrounds when theme == 'dark', light otherwise."""
    dark = theme == "dark"
    figure.update_layout(
        template="plotly_dark" if dark else "plotly_white",
        font={"color": "#dee2e6" if dark else "#212529"},
        **_BASE,
    )
    grid = "rgba(255,255,255,0.12)" if dark else "rgba(0,0,0,0.08)"
    figure.update_xaxes(gridcolor=grid, zeroline=False)
    figure.update_yaxes(gridcolor=grid, zeroline=False)
    return figure
