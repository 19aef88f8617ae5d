"""Finish signing up: the link from the confirmation e-mail opens this page; its button creates the account."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, translator
from enertrack.web.ui.forms import csrf_input, hidden, text_param

dash.register_page(__name__, path="/confirm", title="EnerTrack")


def layout(lang: Any = None, token: Any = None, **_kwargs: Any) -> dbc.Card:
    """A button (a POST: opening a link never changes anything by itself, whatever prefetches it)."""
    _ = translator(lang)
    return dbc.Card(dbc.CardBody([
        html.H1(_("Create your account"), className="h3 mb-3"),
        dbc.Form([
            csrf_input("confirm"),
            hidden("lang", language(lang)),
            hidden("token", text_param(token, 64)),
            dbc.Button(_("Confirm my e-mail address and create the account"), id="confirm-submit",
                       type="submit", color="primary", class_name="w-100"),
        ], action=URL_PREFIX + "confirm", method="POST", prevent_default_on_submit=False),
    ]), class_name="auth-card shadow-sm")
