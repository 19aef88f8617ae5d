"""Profile: timezone, language and tariff; password change, log out everywhere, account deletion."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from enertrack.i18n import LANGUAGES, N_, tr, translator
from enertrack.validation import MESSAGES, currencies, timezones
from enertrack.web.context import services
from enertrack.web.services import accounts
from enertrack.web.ui import ids
from enertrack.web.ui.account_forms import account_section
from enertrack.web.ui.forms import field, parse_errors
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import page_lang, user_id, user_translator

dash.register_page(__name__, path="/profile", title="EnerTrack")

LOAD = "profile-load"
USERNAME = "profile-username"
EMAIL = "profile-email"
TIMEZONE = "profile-timezone"
LANGUAGE = "profile-language"
PRICE = "profile-price"
CURRENCY = "profile-currency"
SAVE = "profile-save"
CHECK_FORM = N_("Check the form.")


def layout(lang: Any = None, errors: Any = None, **_kwargs: Any) -> html.Div:
    """Profile form; current values arrive through a callback (layouts never read the session)."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    problems = parse_errors(errors)
    return html.Div(
        [
            html.H1(_("Profile"), className="h3 mb-3"),
            dcc.Store(id=LOAD, data=True),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.P([html.Span(_("Username") + ": ", className="text-body-secondary"),
                                html.Strong(id=USERNAME)]),
                        html.P([html.Span(_("Email") + ": ", className="text-body-secondary"),
                                html.Span(id=EMAIL)]),
                        field(_("Timezone"), dcc.Dropdown(id=TIMEZONE, options=list(timezones()),
                                                          clearable=False, searchable=True),
                              help_text=_("Days, months and years in the analysis start at midnight "
                                          "in this timezone.")),
                        field(_("Language"), dbc.RadioItems(
                            id=LANGUAGE, options=[{"label": name, "value": code} for code, name in LANGUAGES.items()],
                            inline=True)),
                        html.H2(_("Tariff"), className="h6 mt-4"),
                        dbc.Row([
                            dbc.Col(field(_("Price per kWh"), dbc.Input(id=PRICE, inputmode="decimal", maxLength=12,
                                                                        placeholder="0.15"),
                                          help_text=_("Leave it empty to hide costs.")), md=6),
                            dbc.Col(field(_("Currency"), dcc.Dropdown(id=CURRENCY, options=sorted(currencies()),
                                                                      clearable=False, searchable=True)), md=6),
                        ]),
                        dbc.Button(_("Save"), id=SAVE, color="primary", n_clicks=0),
                    ]
                ),
                class_name="shadow-sm",
                style={"maxWidth": "40rem"},
            ),
            account_section(_, problems),
        ]
    )


@callback(
    Output(USERNAME, "children"),
    Output(EMAIL, "children"),
    Output(TIMEZONE, "value"),
    Output(LANGUAGE, "value"),
    Output(PRICE, "value"),
    Output(CURRENCY, "value"),
    Input(LOAD, "data"),
)
def load_profile(_load: Any) -> tuple[str, ...]:
    """The logged-in user's current settings."""
    with services().read() as db:
        user = accounts.get_user(db, user_id())
        if user is None:
            return "", "", "UTC", "es", "", "EUR"
        price = "" if user.price_per_kwh is None else f"{user.price_per_kwh.normalize():f}"
        return user.username, user.email, user.timezone, user.language, price, user.currency


@callback(
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(ids.LANG, "data", allow_duplicate=True),
    Input(SAVE, "n_clicks"),
    State(TIMEZONE, "value"),
    State(LANGUAGE, "value"),
    State(PRICE, "value"),
    State(CURRENCY, "value"),
    prevent_initial_call=True,
)
def save_profile(clicks: Any, timezone: Any, language: Any, price: Any, currency: Any) -> tuple[Any, Any]:
    """Save timezone, language and tariff; the page switches language at once."""
    if not clicks:
        return no_update, no_update
    try:
        with services().transaction() as db:
            user = accounts.update_preferences(db, user_id(), timezone, language)
            accounts.update_tariff(db, user_id(), price, currency)
            lang = user.language
    except accounts.AccountError as exc:
        _ = user_translator()
        code = next(iter(exc.errors.values()))
        return [toast(_(MESSAGES.get(code, CHECK_FORM)), "danger")], no_update
    # In the language just chosen; tr() with a literal so Babel extracts it.
    return [toast(tr(lang, "Profile saved."), "success")], lang
