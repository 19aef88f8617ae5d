"""Page not found."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from enertrack.config import URL_PREFIX
from enertrack.i18n import translator
from enertrack.web.ui.user import page_lang

dash.register_page(__name__, path="/404", title="EnerTrack")


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """A friendly 404 with a way back."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    return html.Div(
        [
            html.H1(_("Page not found"), className="h3"),
            html.P(_("The address does not match any page of EnerTrack.")),
            dbc.Button(_("Back to the panel"), href=URL_PREFIX, color="primary"),
        ],
        className="py-5 text-center",
    )
