"""Plotly layout for light and dark colour modes, matching Bootstrap's body colours."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
import plotly.graph_objects as go

from enertrack.i18n import language

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


def theme_name(theme: Any) -> str:
    """'dark' or 'light' from an untrusted store value."""
    return "dark" if theme == "dark" else "light"


@lru_cache(maxsize=4)
def _layout_json(theme: str) -> bytes:
    # Cached as JSON text, not as a dict: a shared dict would let one figure's change (to
    # its axes, its template) leak into every figure drawn after it.
    return orjson.dumps(apply_theme(go.Figure(), theme).to_plotly_json()["layout"])


def themed_layout(theme: Any) -> dict[str, Any]:
    """The layout apply_theme gives, as a fresh plain dict of its own: change it freely.

    Figures built as plain dicts skip plotly's validation of every property of every trace,
    which cost the analysis chart (a bar trace per node) most of its time. The theme is built
    by plotly once per theme; each call parses a new deep copy (about 30 us, against 270 us
    for copy.deepcopy).
    """
    return orjson.loads(_layout_json(theme_name(theme)))


# Plotly's own words (month and day names on date axes, modebar tips) per language; the
# Spanish dictionary is registered by assets/vendor/plotly/plotly-locale-es.js (served locally).
PLOTLY_LOCALES = {"es": "es"}


def graph_config(lang: Any, **extra: Any) -> dict[str, Any]:
    """dcc.Graph config: no plotly logo, and plotly's month and day names in the user's language."""
    config: dict[str, Any] = {"displaylogo": False, **extra}
    locale = PLOTLY_LOCALES.get(language(lang))
    if locale:
        config["locale"] = locale
    return config
