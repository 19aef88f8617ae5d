"""Sign up: a plain POST form; errors come back as codes in the query string."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, clientside_callback, dcc, html

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, translator
from enertrack.validation import MESSAGES, PASSWORD_MIN
from enertrack.web.auth import next_param, page_url
from enertrack.web.context import services
from enertrack.web.ui.forms import csrf_input, field, hidden, parse_errors, text_param

dash.register_page(__name__, path="/register", title="EnerTrack")

USERNAME_PATTERN = r"[A-Za-z0-9_.\-]{3,32}"


def _registration() -> str:
    """ENERTRACK_REGISTRATION (configuration, the same for everyone; 'open' outside the app)."""
    try:
        return str(services().settings.registration)
    except (RuntimeError, KeyError):  # Dash's validation layout
        return "open"


def closed_card(_: Any) -> dbc.Card:
    """What sign-up says when it needs an invitation (or is closed)."""
    return dbc.Card(dbc.CardBody([
        html.H1(_("Create your account"), className="h3 mb-3"),
        html.P(_("Sign-up on this installation needs an invitation link from its administrator."),
               id="register-closed"),
        html.P(dcc.Link(_("Log in"), href=page_url("login")), className="mb-0 text-center"),
    ]), class_name="auth-card shadow-sm")


def layout(lang: Any = None, username: Any = None, email: Any = None, errors: Any = None,
           next: Any = None, invite: Any = None, **_kwargs: Any) -> dbc.Card:  # noqa: A002 - the query parameter is called next
    """The sign-up card (errors and values come from the query string)."""
    _ = translator(lang)
    mode, token = _registration(), text_param(invite, 64)
    if mode == "closed" or (mode == "invite" and not token):
        return closed_card(_)
    problems = parse_errors(errors)
    target = next_param(next)  # the page login was asked for: it follows sign-up back to login

    def error(name: str) -> str | None:
        return _(MESSAGES[problems[name]]) if name in problems else None

    return dbc.Card(
        dbc.CardBody(
            [
                html.H1(_("Create your account"), className="h3 mb-3"),
                dbc.Form(
                    [
                        csrf_input("register"),
                        hidden("language", language(lang)),
                        hidden("next", target),
                        hidden("invite", token),
                        dcc.Input(type="hidden", name="timezone", id="register-timezone", value=""),
                        field(_("Username"), dbc.Input(
                            id="register-username", name="username", value=text_param(username, 32),
                            required=True, autocomplete="username", pattern=USERNAME_PATTERN,
                            minLength=3, maxLength=32, invalid="username" in problems),
                            help_text=_("3 to 32 letters, digits, dots, hyphens or underscores."),
                            error=error("username")),
                        field(_("Email"), dbc.Input(
                            id="register-email", name="email", type="email", value=text_param(email, 254),
                            required=True, autocomplete="email", maxLength=254, invalid="email" in problems),
                            error=error("email")),
                        field(_("Password"), dbc.Input(
                            id="register-password", name="password", type="password", required=True,
                            minLength=PASSWORD_MIN, maxLength=128, autocomplete="new-password",
                            invalid="password" in problems),
                            help_text=_("At least 12 characters. A short sentence is easy to remember."),
                            error=error("password")),
                        field(_("Repeat the password"), dbc.Input(
                            id="register-confirm", name="confirm", type="password", required=True,
                            minLength=PASSWORD_MIN, maxLength=128, autocomplete="new-password")),
                        dbc.Button(_("Create account"), id="register-submit", type="submit",
                                   color="primary", class_name="w-100"),
                    ],
                    action=URL_PREFIX + "register",
                    method="POST",
                    prevent_default_on_submit=False,
                ),
                html.P(
                    [_("Already have an account?"), " ", dcc.Link(_("Log in"), href=page_url("login", next=target),
                                                                        id="register-to-login")],
                    className="mt-3 mb-0 text-center",
                ),
            ]
        ),
        class_name="auth-card shadow-sm",
    )


# The browser knows the user's timezone; the server cannot (a profile setting changes it later).
clientside_callback(
    "function(_id) { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; } }",
    Output("register-timezone", "value"),
    Input("register-timezone", "id"),
)
