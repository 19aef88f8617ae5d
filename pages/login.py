"""Log in: a plain POST form to the Flask route (CSRF-protected, rate-limited)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, translator
from enertrack.web.auth import next_param, page_url
from enertrack.web.ui.forms import csrf_input, field, hidden, text_param

dash.register_page(__name__, path="/login", title="EnerTrack")


def layout(lang: Any = None, next: Any = None, username: Any = None, **_kwargs: Any) -> dbc.Card:  # noqa: A002 - the query parameter is called next
    """The login card (pure: everything it shows comes from its arguments)."""
    _ = translator(lang)
    return dbc.Card(
        dbc.CardBody(
            [
                html.H1(_("Log in"), className="h3 mb-1"),
                html.P(_("Monitor your electricity, node by node."), className="text-body-secondary"),
                dbc.Form(
                    [
                        csrf_input("login"),
                        hidden("next", text_param(next, 512)),
                        hidden("lang", language(lang)),
                        field(_("Username"), dbc.Input(
                            id="login-username", name="username", value=text_param(username, 64),
                            required=True, autocomplete="username", maxLength=64, autofocus=True)),
                        field(_("Password"), dbc.Input(
                            id="login-password", name="password", type="password", required=True,
                            autocomplete="current-password", maxLength=128)),
                        dbc.Checkbox(id="login-remember", name="remember", value=False,
                                     label=_("Remember me on this device"), class_name="mb-3"),
                        dbc.Button(_("Log in"), id="login-submit", type="submit", color="primary",
                                   class_name="w-100"),
                    ],
                    action=URL_PREFIX + "login",
                    method="POST",
                    prevent_default_on_submit=False,
                ),
                html.P(dcc.Link(_("Forgot your password?"), href=page_url("forgot"), id="login-to-forgot"),
                       className="mt-3 mb-0 text-center"),
                html.P(
                    [_("No account yet?"), " ",
                     dcc.Link(_("Sign up"), href=page_url("register", next=next_param(next)),
                              id="login-to-register")],
                    className="mt-3 mb-0 text-center",
                ),
            ]
        ),
        class_name="auth-card shadow-sm",
    )
