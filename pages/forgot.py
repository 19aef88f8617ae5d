"""Forgot your password: ask for a reset link by e-mail (or, without e-mail, what to do instead)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, translator
from enertrack.web.auth import page_url
from enertrack.web.context import services
from enertrack.web.ui.forms import csrf_input, field, hidden

dash.register_page(__name__, path="/forgot", title="EnerTrack")


def _mail_ready() -> bool:
    """Whether this installation can send e-mail (configuration, not session: the same for everyone)."""
    try:
        return services().settings.mail_configured
    except (RuntimeError, KeyError):  # Dash's validation layout, outside the app
        return False


def layout(lang: Any = None, **_kwargs: Any) -> dbc.Card:
    """The request form, or the administrator's command when no e-mail can be sent."""
    _ = translator(lang)
    if not _mail_ready():
        body: list[Any] = [
            html.P(_("Password reset by e-mail is not available on this installation."), id="forgot-unavailable"),
            html.P([_("Ask its administrator to set a new password for you with:"), " ",
                    html.Code("enertrack user set-password --username …")]),
        ]
    else:
        body = [dbc.Form([
            csrf_input("forgot"),
            hidden("lang", language(lang)),
            field(_("Email"), dbc.Input(id="forgot-email", name="email", type="email", required=True,
                                        autocomplete="email", maxLength=254, autofocus=True),
                  help_text=_("We will send a link to choose a new password. It works for one hour.")),
            dbc.Button(_("Send the link"), id="forgot-submit", type="submit", color="primary", class_name="w-100"),
        ], action=URL_PREFIX + "forgot", method="POST", prevent_default_on_submit=False)]
    return dbc.Card(dbc.CardBody([
        html.H1(_("Forgot your password?"), className="h3 mb-3"),
        *body,
        html.P(dcc.Link(_("Log in"), href=page_url("login")), className="mt-3 mb-0 text-center"),
    ]), class_name="auth-card shadow-sm")
