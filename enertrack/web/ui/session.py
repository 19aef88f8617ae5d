"""Per-session pieces of the shell: navbar texts, user menu, language, flashed toasts, CSRF tokens.

These are the only server callbacks an anonymous visitor may run (besides the pages
router for public paths); each one answers anonymous users with public content.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from flask import get_flashed_messages
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from enertrack.config import URL_PREFIX
from enertrack.i18n import LANGUAGES, language, translator
from enertrack.models import User
from enertrack.web.context import services
from enertrack.web.ui import ids
from enertrack.web.ui.bell import bell
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import page_lang

LANGUAGES_LIST = tuple(LANGUAGES)


def logout_form(_: Any) -> dbc.Form:
    """The logout button: a CSRF-protected POST form, as logging out changes state."""
    return dbc.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", id={"type": ids.CSRF, "form": "logout"}),
            dbc.Button(
                [html.I(className="bi bi-box-arrow-right me-2"), _("Log out")],
                type="submit", color="link", class_name="dropdown-item", id="logout-button",
            ),
        ],
        action=URL_PREFIX + "logout",
        method="POST",
        prevent_default_on_submit=False,
    )


def _nav_item(icon: str, label: str, href: str, active: str) -> dbc.NavItem:
    return dbc.NavItem(dbc.NavLink([html.I(className=f"bi {icon} me-1"), label], href=href, active=active))


def nav_links(_: Any) -> list[dbc.NavItem]:
    """Main sections for a logged-in user."""
    return [
        _nav_item("bi-speedometer2", _("Panel"), URL_PREFIX, "exact"),
        _nav_item("bi-cpu", _("Nodes"), URL_PREFIX + "nodes", "partial"),
        _nav_item("bi-bar-chart-line", _("Analysis"), URL_PREFIX + "analysis", "partial"),
        _nav_item("bi-bell", _("Alerts"), URL_PREFIX + "alerts", "partial"),
        _nav_item("bi-house-gear", _("Sites"), URL_PREFIX + "sites", "partial"),
    ]


def public_links(_: Any) -> list[dbc.NavItem]:
    """Log in / sign up for anonymous visitors."""
    return [
        dbc.NavItem(dbc.NavLink(_("Log in"), href=URL_PREFIX + "login", id="nav-login")),
        dbc.NavItem(dbc.NavLink(_("Sign up"), href=URL_PREFIX + "register", id="nav-register")),
    ]


def user_menu(_: Any, username: str) -> dbc.DropdownMenu:
    """The user's menu: profile and logout."""
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem([html.I(className="bi bi-person-gear me-2"), _("Profile")],
                                 href=URL_PREFIX + "profile"),
            dbc.DropdownMenuItem(divider=True),
            logout_form(_),
        ],
        label=[html.I(className="bi bi-person-circle me-1"), username],
        nav=True,
        align_end=True,
        id="user-menu",
    )


def language_picker() -> dbc.DropdownMenu:
    """ES / EN for everyone; a logged-in user's choice is saved to their profile."""
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(name, id=pick_id, n_clicks=0)
            for pick_id, name in ((ids.LANG_PICK_ES, LANGUAGES["es"]), (ids.LANG_PICK_EN, LANGUAGES["en"]))
        ],
        # In both languages on purpose: whoever cannot read the current one must find the way out.
        label=html.I(className="bi bi-translate", title="Idioma / Language"),
        nav=True,
        align_end=True,
        id="lang-menu",
    )


def _save_language(user_id: int, lang: str) -> None:
    with services().transaction() as db:
        user = db.get(User, user_id)
        if user is not None:
            user.language = lang


def _register_browser_only(app: Dash) -> None:
    """The navbar's callbacks that run in the browser: the language menu and the collapse toggle."""
    app.clientside_callback(
        f"""
        function(es, en) {{
            var id = window.dash_clientside.callback_context.triggered_id;
            if (id === "{ids.LANG_PICK_ES}") {{ return "es"; }}
            if (id === "{ids.LANG_PICK_EN}") {{ return "en"; }}
            return window.dash_clientside.no_update;
        }}
        """,
        Output(ids.LANG_PICK, "data"),
        Input(ids.LANG_PICK_ES, "n_clicks"),
        Input(ids.LANG_PICK_EN, "n_clicks"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        "function(n, open) { return n ? !open : open; }",
        Output("nav-collapse", "is_open"),
        Input("nav-toggler", "n_clicks"),
        State("nav-collapse", "is_open"),
        prevent_initial_call=True,
    )


def register(app: Dash) -> set[str]:
    """Register the session callbacks on app; returns the output keys of the three that run on the server."""
    before = set(app.callback_map)

    # The pages router takes the language store as an input, so a callback that wrote the store on
    # every page load held the router back a round trip: the store is written only when the visitor
    # picks a language, and a logged-in user's pages and navbar follow the profile (ui.user.page_lang).
    @app.callback(
        Output(ids.NAV_LINKS, "children"),
        Output(ids.NAV_PUBLIC, "children"),
        Output(ids.NAV_USER, "children"),
        Output(ids.TOASTS, "children"),
        Output(ids.THEME_TOGGLE, "title"),
        Input("_pages_location", "pathname"),
        Input(ids.LANG, "data"),
    )
    def session_state(_pathname: Any, stored: Any) -> tuple[Any, ...]:
        """Navbar for this visitor, in the profile's language once logged in (else the one remembered)."""
        _ = translator(page_lang(stored))  # translator falls back to the default for anything else
        flashed = [toast(str(message), kind if kind in ("success", "danger", "warning", "info") else "info")
                   for kind, message in get_flashed_messages(with_categories=True)]
        if current_user.is_authenticated:
            links, public, menu = nav_links(_), [], [bell(_), user_menu(_, str(current_user.username))]
        else:
            links, public, menu = [], public_links(_), None
        return links, public, menu, flashed or no_update, _("Light or dark theme")

    @app.callback(
        Output(ids.LANG, "data"),
        Input(ids.LANG_PICK, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def language_store(picked: Any, stored: Any) -> Any:
        """A choice made with the language menu: remembered by the browser, and the profile's once logged in.

        Written only then, so that no page load waits for it; it re-renders the page in the new
        language. Logged in, pages and navbar follow the profile whatever the browser remembered.
        """
        if picked not in LANGUAGES_LIST:
            return no_update
        profile_changed = current_user.is_authenticated and picked != language(current_user.language)
        if profile_changed:
            _save_language(int(current_user.id), picked)
        # Written again when only the profile changed too: that is what re-renders page and navbar.
        return picked if picked != stored or profile_changed else no_update

    @app.callback(
        Output({"type": ids.CSRF, "form": ALL}, "value"),
        Input({"type": ids.CSRF, "form": ALL}, "id"),
    )
    def csrf_tokens(found: list[Any]) -> list[str]:
        token = generate_csrf()
        return [token for _ in found]

    public = set(app.callback_map) - before  # exactly these three server callbacks, nothing else
    _register_browser_only(app)
    return public
