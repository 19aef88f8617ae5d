"""Panel: the installation at a glance (KPIs and node status arrive with the dashboards issue)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from enertrack.config import URL_PREFIX
from enertrack.i18n import translator

dash.register_page(__name__, path="/", title="EnerTrack")


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Placeholder that says so honestly, with the way to what works today."""
    _ = translator(lang)
    return html.Div(
        [
            html.H1(_("Panel"), className="h3 mb-3"),
            dbc.Alert(
                [
                    html.P(_("The live panel (KPIs averaged over your nodes and each node's status) is not built yet."), className="mb-2"),
                    dbc.Button(_("Manage your nodes"), href=URL_PREFIX + "nodes", color="primary", size="sm"),
                ],
                color="secondary",
                id="panel-placeholder",
            ),
        ]
    )
