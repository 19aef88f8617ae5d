"""Choose a new password with the link from the reset e-mail (the token is in the query string)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, translator
from enertrack.validation import MESSAGES, PASSWORD_MAX, PASSWORD_MIN
from enertrack.web.ui.forms import csrf_input, field, hidden, parse_errors, text_param

dash.register_page(__name__, path="/reset", title="EnerTrack")


def layout(lang: Any = None, token: Any = None, errors: Any = None, **_kwargs: Any) -> dbc.Card:
    """The new-password form (pure: the token and any errors come from the query string)."""
    _ = translator(lang)
    problems = parse_errors(errors)
    error = _(MESSAGES[problems["password"]]) if "password" in problems else None
    return dbc.Card(dbc.CardBody([
        html.H1(_("Choose a new password"), className="h3 mb-3"),
        dbc.Form([
            csrf_input("reset"),
            hidden("lang", language(lang)),
            hidden("token", text_param(token, 64)),
            field(_("New password"), dbc.Input(
                id="reset-password", name="password", type="password", required=True, minLength=PASSWORD_MIN,
                maxLength=PASSWORD_MAX, autocomplete="new-password", invalid="password" in problems),
                help_text=_("At least 12 characters, hard to guess, without your username or email."), error=error),
            field(_("Repeat the new password"), dbc.Input(
                id="reset-confirm", name="confirm", type="password", required=True, minLength=PASSWORD_MIN,
                maxLength=PASSWORD_MAX, autocomplete="new-password")),
            dbc.Button(_("Change password"), id="reset-submit", type="submit", color="primary", class_name="w-100"),
        ], action=URL_PREFIX + "reset", method="POST", prevent_default_on_submit=False),
    ]), class_name="auth-card shadow-sm")
