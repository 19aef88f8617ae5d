"""The panel's Insights section: three to five plain-language cards, each linking to its chart.

Its own callback reads the panel's site filter; pages/panel.py places section() and calls register().
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from enertrack.i18n import N_, translator
from enertrack.numerals import decimal
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.services.insights import Insight, insights
from enertrack.web.services.sites import SiteNotFound, list_sites
from enertrack.web.ui import fmt
from enertrack.web.ui.user import user_id, user_lang, user_timezone

SITE = "panel-site"  # the panel's site filter (this module's, placed by section())
LOAD = "panel-insights-load"
SECTION = "panel-insights"
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
            N_("Sunday"))
ICONS = {"base_load": "bi-moon-stars", "today": "bi-calendar-day", "unusual_day": "bi-exclamation-diamond",
         "forecast": "bi-receipt", "quality": "bi-lightning-charge"}
TITLES = {"base_load": N_("Base load"), "today": N_("Today"), "unusual_day": N_("Unusual day"),
          "forecast": N_("Bill forecast"), "quality": N_("Supply quality")}


def site_filter(_: Any) -> dbc.Select:
    """The panel's site filter (options arrive from a callback)."""
    return dbc.Select(id=SITE, value="all", options=[{"label": _("All sites"), "value": "all"}],
                      class_name="w-auto", size="sm")


def section(_: Any) -> html.Div:
    """The section's frame (pure: the callback fills it)."""
    return html.Div([dcc.Store(id=LOAD, data=True), html.H2(_("Insights"), className="h5 mb-2"),
                     dcc.Loading(html.Div(id=SECTION), delay_show=300)], className="mb-4")


def site_options(_load: Any) -> list[dict[str, str]]:
    """'All sites' and the user's sites."""
    _ = translator(user_lang())
    with services().read() as db:
        found = list_sites(db, user_id())
    return [{"label": _("All sites"), "value": "all"}, *({"label": s.name, "value": str(s.id)} for s in found)]


def _kwh(lang: str, value: float) -> str:
    return f"{fmt.energy(lang, value)} kWh"


def sentence(card: Insight, lang: str) -> str:
    """The card's plain-language statement in lang."""
    _ = translator(lang)
    v = card.values
    if card.kind == "base_load":
        common = {"watts": decimal(lang, v["watts"], 0), "share": fmt.percent(lang, v["share"])}
        if v["yearly_cost"] is not None:
            return _("Your base load is {watts} W, {share} of your consumption: about {cost} a year.",
                     cost=fmt.money(lang, v["yearly_cost"], v.get("currency", "EUR")), **common)
        return _("Your base load is {watts} W, {share} of your consumption: about {kwh} a year.",
                 kwh=_kwh(lang, v["yearly_kwh"]), **common)
    if card.kind == "today":
        common = {"kwh": _kwh(lang, v["kwh"]), "weekday": _(WEEKDAYS[v["weekday"]]),
                  "usual": _kwh(lang, v["usual_kwh"]), "change": fmt.percent(lang, abs(v["change"]))}
        if abs(v["change"]) < 0.1:
            return _("Today you have used {kwh} so far, close to a usual {weekday} by this time ({usual}).", **common)
        if v["change"] > 0:
            return _("Today you have used {kwh} so far, {change} more than a usual {weekday} by this time.", **common)
        return _("Today you have used {kwh} so far, {change} less than a usual {weekday} by this time.", **common)
    if card.kind == "unusual_day":
        common = {"day": v["day"].isoformat(), "kwh": _kwh(lang, v["kwh"]), "usual": _kwh(lang, v["usual_kwh"]),
                  "weekday": _(WEEKDAYS[v["weekday"]]), "ratio": decimal(lang, v["ratio"], 1)}
        if v["direction"] == "high":
            return _("On {day} you used {kwh}, {ratio} times a usual {weekday} ({usual}).", **common)
        return _("On {day} you used only {kwh}, far below a usual {weekday} ({usual}).", **common)
    if card.kind == "forecast":
        if v["cost"] is not None:
            money = {k: fmt.money(lang, v[k], v["currency"]) for k in ("cost", "low_cost", "high_cost")}
            return _("This period's bill is heading for about {cost} (between {low_cost} and {high_cost}), "
                     "{kwh}.", kwh=_kwh(lang, v["kwh"]), **money)
        return _("This period you are heading for about {kwh} (between {low} and {high}).",
                 kwh=_kwh(lang, v["kwh"]), low=_kwh(lang, v["low_kwh"]), high=_kwh(lang, v["high_kwh"]))
    if v["outside"]:
        return _("Last week the supply at {node} was outside the EN 50160 limits ({dips} dips, {swells} swells).",
                 node=v["node"], dips=v["dips"], swells=v["swells"])
    return _("Last week the supply was within the EN 50160 limits on every node judged ({judged}).",
             judged=v["judged"])


def cards(found: list[Insight], lang: str) -> list[Any]:
    """One card per insight, in a row."""
    _ = translator(lang)
    return [dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.I(className=f"bi {ICONS[c.kind]} me-1"), _(TITLES[c.kind])], className="kpi-label"),
            html.P(sentence(c, lang), className="mb-2 insight-text"),
            dcc.Link(_("See the chart"), href=c.href, className="small insight-link"),
        ]), class_name="h-100 shadow-sm insight-card", id=f"insight-{c.kind}"), xs=12, md=6, xl=True)
        for c in found
    ], class_name="g-3")]


def show_insights(site: Any) -> Any:
    """Fill the section for the user's chosen site."""
    lang = user_lang()
    _ = translator(lang)
    app = services()
    try:
        with app.read() as db:
            found = insights(db, app.store, user_id(), site, user_timezone(), app.settings.grid, time.time())
    except SiteNotFound:
        return None
    except StoreUnavailable:
        return html.Small(_("The readings are not available right now. Try again in a minute."),
                          className="text-body-secondary")
    if not found:
        return html.Small(_("Insights appear once your nodes have sent a few days of readings."),
                          className="text-body-secondary")
    return cards(found, lang)


def register() -> None:
    """Register the section's callback with the app that executes the panel page."""
    callback(Output(SECTION, "children"), Input(SITE, "value"))(show_insights)
    callback(Output(SITE, "options"), Input(LOAD, "data"))(site_options)
