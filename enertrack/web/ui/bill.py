"""The analysis page's bill section: cost per tariff band, comparisons and the running bill's forecast.

Its own callback reads the page's controls; pages/analysis.py places section() and calls register().
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from enertrack.core.tariffs import BANDS
from enertrack.i18n import N_, translator
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.services import bill
from enertrack.web.services.analysis import parse_request
from enertrack.web.services.nodes import owned_ids
from enertrack.web.services.sites import SiteNotFound, site_node_ids
from enertrack.web.ui import fmt
from enertrack.web.ui.user import user_id, user_lang, user_timezone

SECTION = "analysis-bill"
CONTROLS = ("analysis-period", "analysis-range", "analysis-site", "analysis-nodes")  # pages/analysis.py's ids
BAND_LABELS = {"punta": N_("Peak (punta)"), "llano": N_("Standard (llano)"), "valle": N_("Off-peak (valle)")}


def section(_: Any) -> html.Div:
    """The section's frame (pure: the callback fills it)."""
    return html.Div(id=SECTION, className="mt-3")


def selected_nodes(db: Any, uid: int, site: Any, requested: Any) -> list[str]:
    """The user's nodes of the chosen site, narrowed to the requested ones when any (untrusted both)."""
    in_site = site_node_ids(db, uid, site)
    if not requested:
        return in_site
    wanted = owned_ids(db, uid, requested if isinstance(requested, list) else [requested])
    return [n for n in in_site if n in wanted]


def _change(lang: str, now: float, before: float) -> str:
    value = bill.Comparison.change(now, before)
    return fmt.percent(lang, value, signed=True) if value is not None else "—"


def _card(title: str, body: list[Any], card_id: str) -> dbc.Col:
    return dbc.Col(dbc.Card([dbc.CardHeader(title, class_name="fw-semibold"), dbc.CardBody(body)],
                            class_name="h-100 shadow-sm", id=card_id), lg=4)


def _bands(split: bill.BandSplit, cur: str, lang: str) -> dbc.Col:
    _ = translator(lang)
    costs = split.costs
    rows = [html.Tr([html.Td(_(BAND_LABELS[b])),
                     html.Td(f"{fmt.energy(lang, costs.kwh[b])} kWh", className="text-end"),
                     html.Td(fmt.money(lang, costs.cost[b], cur) if split.priced else "", className="text-end")])
            for b in BANDS if costs.kwh[b] > 0 or b == "llano"]
    if split.priced:
        rows.append(html.Tr([html.Td(_("Fixed and power charges")), html.Td(""),
                             html.Td(fmt.money(lang, split.fixed, cur), className="text-end")]))
    return _card(_("Cost by tariff band"), [dbc.Table(html.Tbody(rows), size="sm", class_name="mb-0")]
                 + ([] if split.priced else [html.Small(_("Set a tariff to see costs."),
                                                        className="text-body-secondary")]),
                 "analysis-bands")


def _forecast(found: bill.BillForecast, lang: str) -> dbc.Col:
    _ = translator(lang)
    result = found.total
    money = (lambda v: fmt.money(lang, v, found.currency)) if result.expected_cost is not None else (lambda v: "")
    sites = [html.Li(f"{price.name}: {fmt.energy(lang, part.expected_kwh)} kWh"
                     + (f" · {money(part.expected_cost)}" if part.expected_cost is not None
                        and result.expected_cost is not None else ""))
             for price, part in found.parts] if found.name is None and len(found.parts) > 1 else []
    return _card(_("Bill forecast: {site}, {first} – {last}", site=found.name or _("All sites"),
                   first=found.first.isoformat(), last=(found.end - timedelta(days=1)).isoformat()), [
        html.Div(f"{fmt.energy(lang, result.expected_kwh)} kWh", className="kpi-value"),
        html.Div(money(result.expected_cost), className="fw-semibold"),
        html.Small(_("between {low} and {high} kWh", low=fmt.energy(lang, result.low_kwh),
                     high=fmt.energy(lang, result.high_kwh))
                   + (f" ({money(result.low_cost)} – {money(result.high_cost)})" if result.expected_cost is not None
                      else ""), className="text-body-secondary d-block"),
        html.Small(_("so far: {kwh} kWh", kwh=fmt.energy(lang, result.so_far_kwh)), className="text-body-secondary"),
        html.Ul(sites, className="small mb-0 mt-2 analysis-forecast-sites") if sites else None,
    ], "analysis-forecast")


def view(split: bill.BandSplit | None, comparison: bill.Comparison, forecast: bill.BillForecast,
         lang: str) -> dbc.Row:
    """The three cards: bands, comparisons, forecast."""
    _ = translator(lang)
    cards = [] if split is None else [_bands(split, forecast.currency, lang)]
    cards.append(_card(_("Comparisons"), [dbc.Table(html.Tbody([
        html.Tr([html.Td(_("This range")), html.Td(f"{fmt.energy(lang, comparison.kwh)} kWh", className="text-end"),
                 html.Td("")]),
        html.Tr([html.Td(_("Week before")), html.Td(f"{fmt.energy(lang, comparison.week_before_kwh)} kWh",
                                                    className="text-end"),
                 html.Td(_change(lang, comparison.kwh, comparison.week_before_kwh), className="text-end")]),
        html.Tr([html.Td(_("Same dates last year")), html.Td(f"{fmt.energy(lang, comparison.year_before_kwh)} kWh",
                                                             className="text-end"),
                 html.Td(_change(lang, comparison.kwh, comparison.year_before_kwh), className="text-end")]),
    ]), size="sm", class_name="mb-0")], "analysis-comparisons"))
    cards.append(_forecast(forecast, lang))
    return dbc.Row(cards, class_name="g-3")


def show_bill(period: Any, start: Any, end: Any, site: Any, requested: Any) -> Any:
    """Fill the section for the user's chosen site, nodes and range."""
    lang, tz, now = user_lang(), user_timezone(), time.time()
    request = parse_request(period, start, end)
    if isinstance(request, str):
        return None
    app = services()
    try:
        with app.read() as db:
            uid = user_id()
            node_ids = selected_nodes(db, uid, site, requested)
            priced = bill.pricings(db, uid, site, requested)  # each site at its own tariffs, summed
            forecast = bill.bill_forecast(db, app.store, uid, site, tz, now)
        split = bill.sites_band_split(app.store, priced, request.start, request.end, tz, now)
        comparison = bill.comparison(app.store, node_ids, request.start, request.end, tz, now)
    except SiteNotFound:
        return None
    except StoreUnavailable:
        return None  # the chart's own message says so
    return view(split, comparison, forecast, lang)


def register() -> None:
    """Register the section's callback with the app that executes the analysis page."""
    callback(Output(SECTION, "children"), Input(CONTROLS[0], "value"), Input(CONTROLS[1], "start_date"),
             Input(CONTROLS[1], "end_date"), Input(CONTROLS[2], "value"), Input(CONTROLS[3], "value"))(show_bill)
