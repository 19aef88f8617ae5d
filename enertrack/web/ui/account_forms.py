"""The profile page's account forms: change password, log out everywhere, delete the account.

Plain POST forms to enertrack.web.account_routes; the reasons a submission was refused come
back as codes in the query string and are shown next to the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from enertrack.config import URL_PREFIX
from enertrack.validation import MESSAGES, PASSWORD_MAX, PASSWORD_MIN
from enertrack.web.ui.forms import csrf_input, field

Translate = Callable[[str], str]


def _password(_: Translate, control_id: str, name: str, autocomplete: str, *, problems: dict[str, str],
              key: str | None = None, new: bool = False) -> dbc.Input:
    return dbc.Input(id=control_id, name=name, type="password", required=True, autocomplete=autocomplete,
                     minLength=PASSWORD_MIN if new else None, maxLength=PASSWORD_MAX,
                     invalid=(key or name) in problems)


def _form(action: str, form_id: str, children: list[Any]) -> dbc.Form:
    return dbc.Form([csrf_input(form_id), *children], action=URL_PREFIX + action, method="POST",
                    prevent_default_on_submit=False, id=f"{form_id}-form")


def password_card(_: Translate, problems: dict[str, str]) -> dbc.Card:
    """Change password: the current one, then the new one twice."""
    def error(name: str) -> str | None:
        return _(MESSAGES[problems[name]]) if name in problems else None

    return dbc.Card(dbc.CardBody([
        html.H2(_("Change password"), className="h5", id="password"),
        _form("account/password", "password", [
            field(_("Current password"), _password(_, "password-current", "current_password",
                                                   "current-password", problems=problems),
                  error=error("current_password")),
            field(_("New password"), _password(_, "password-new", "password", "new-password",
                                               problems=problems, new=True),
                  help_text=_("At least 12 characters, hard to guess, without your username or email."),
                  error=error("password")),
            field(_("Repeat the new password"), _password(_, "password-confirm", "confirm", "new-password",
                                                         problems=problems, new=True)),
            dbc.Button(_("Change password"), id="password-submit", type="submit", color="primary"),
            html.P(_("Every other device where you are logged in will be logged out."),
                   className="form-text mb-0 mt-2"),
        ]),
    ]), class_name="shadow-sm mt-4", style={"maxWidth": "40rem"})


def sessions_card(_: Translate) -> dbc.Card:
    """Log out everywhere (this browser too)."""
    return dbc.Card(dbc.CardBody([
        html.H2(_("Devices"), className="h5", id="devices"),
        html.P(_("Lost a phone, or logged in on someone else's computer? End every session at once."),
               className="text-body-secondary"),
        _form("account/logout-everywhere", "everywhere", [
            dbc.Button(_("Log out everywhere"), id="everywhere-submit", type="submit", color="secondary"),
        ]),
    ]), class_name="shadow-sm mt-4", style={"maxWidth": "40rem"})


def delete_card(_: Translate, problems: dict[str, str]) -> dbc.Card:
    """Delete the account, after saying what goes with it; the password confirms."""
    wrong = "delete_password" in problems
    failed = problems.get("delete")
    return dbc.Card(dbc.CardBody([
        html.H2(_("Delete account"), className="h5 text-danger", id="delete"),
        html.P(_("This deletes your account, all your nodes and every reading they have sent, their broker "
                 "accounts, your alert rules, notifications and webhook. It cannot be undone."),
               className="text-body-secondary", id="delete-warning"),
        *([dbc.Alert(_(MESSAGES[failed]), color="danger", id="delete-failed")] if failed else []),
        _form("account/delete", "delete", [
            field(_("Your password, to confirm"), _password(_, "delete-password", "password", "current-password",
                                                            problems=problems, key="delete_password"),
                  error=_(MESSAGES["password_wrong"]) if wrong else None),
            dbc.Button(_("Delete my account and all its data"), id="delete-submit", type="submit",
                       color="danger"),
        ]),
    ]), class_name="shadow-sm mt-4 border-danger", style={"maxWidth": "40rem"})


def account_section(_: Translate, problems: dict[str, str]) -> html.Div:
    """The three account cards, in the order people look for them."""
    return html.Div([password_card(_, problems), sessions_card(_), delete_card(_, problems)])
