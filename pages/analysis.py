"""Analysis: energy by hour, day, month and year (arrives with the dashboards issue)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from enertrack.i18n import translator

dash.register_page(__name__, path="/analysis", title="EnerTrack")


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Placeholder that says so honestly."""
    _ = translator(lang)
    return html.Div(
        [
            html.H1(_("Analysis"), className="h3 mb-3"),
            dbc.Alert(_("Consumption analysis by hour, day, month and year is not built yet."),
                      color="secondary", id="analysis-placeholder"),
        ]
    )
