"""Analysis: energy consumed per hour, day, month or year, stacked per node, with statistics."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from enertrack.core.calendar import boundaries, today
from enertrack.i18n import N_, translator
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.services import accounts
from enertrack.web.services import bill as bill_service
from enertrack.web.services import nodes as node_service
from enertrack.web.services import sites as site_service
from enertrack.web.services.analysis import (
    AnalysisRequest,
    CostStats,
    EnergyStats,
    cost_stats,
    default_range,
    energy_stats,
    export_csv,
    load_energy,
    parse_request,
    previous_energy,
    previous_range,
    running,
)
from enertrack.web.ui import bill, fmt, ids, unusual
from enertrack.web.ui.energy_chart import energy_figure
from enertrack.web.ui.forms import date_range
from enertrack.web.ui.plot_theme import graph_config
from enertrack.web.ui.user import page_lang, user_id, user_lang, user_timezone

dash.register_page(__name__, path="/analysis", title="EnerTrack")
bill.register()  # the bill section's callback, registered with each app that runs this page
unusual.register()  # ... and the unusual days'

LOAD = "analysis-load"
PERIOD = "analysis-period"
RANGE = "analysis-range"
NODES = "analysis-nodes"
SITE = "analysis-site"
WANTED = "analysis-wanted"  # the range a link asked for
CHART = "analysis-chart"
STATS = "analysis-stats"
MESSAGE = "analysis-message"
DOWNLOAD = "analysis-download"
DOWNLOAD_BUTTON = "analysis-download-button"
PERIODS = (("hour", N_("Hour")), ("day", N_("Day")), ("month", N_("Month")), ("year", N_("Year")))
ERRORS = {
    "bad_period": N_("Choose hour, day, month or year."),
    "bad_date": N_("Choose a start and an end date."),
    "end_before_start": N_("The end date cannot be before the start date."),
    "too_many_periods": N_(
        "That range has too many bars for this granularity: choose a shorter range or a coarser one."),
    "store": N_("The readings are not available right now. Try again in a minute."),
}


def layout(lang: Any = None, period: Any = None, start: Any = None, end: Any = None,
           **_kwargs: Any) -> html.Div:
    """Controls, chart, statistics and download; the data arrives through callbacks.

    ?period=&start=&end= (an insight card's link) choose what is shown first; unreadable ones are ignored.
    """
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    asked = parse_request(period, start, end)
    wanted = None if isinstance(asked, str) else {"period": asked.period, "start": start, "end": end}
    return html.Div(
        [
            html.H1(_("Analysis"), className="h3 mb-3"),
            dcc.Store(id=LOAD, data=True),
            dcc.Store(id=WANTED, data=wanted),
            dbc.Row(
                [
                    dbc.Col(dbc.RadioItems(
                        id=PERIOD, options=[{"label": _(label), "value": value} for value, label in PERIODS],
                        value=wanted["period"] if wanted else "day", inline=True,
                        class_name="et-choice", input_class_name="btn-check",
                        label_class_name="btn btn-outline-primary", label_checked_class_name="active"),
                        width="auto"),
                    dbc.Col(date_range(RANGE, _), width="auto"),
                    dbc.Col(dbc.Select(id=SITE, value="all", options=[{"label": _("All sites"), "value": "all"}]),
                            width="auto"),
                    dbc.Col(dcc.Dropdown(id=NODES, multi=True, placeholder=_("All nodes")), md=True),
                    dbc.Col(dbc.Button([html.I(className="bi bi-download me-1"), _("Download CSV")],
                                       id=DOWNLOAD_BUTTON, color="secondary", outline=True, n_clicks=0),
                            width="auto"),
                ],
                class_name="g-2 align-items-center mb-3",
            ),
            dbc.Alert(id=MESSAGE, color="warning", is_open=False),
            dcc.Loading(dcc.Graph(id=CHART, config=graph_config(lang), style={"height": "420px"}),
                        delay_show=300),
            html.Div(id=STATS, className="mt-3"),
            bill.section(_),
            unusual.section(_),
            dcc.Download(id=DOWNLOAD),
        ]
    )


@callback(Output(NODES, "options"), Output(SITE, "options"), Input(LOAD, "data"))
def node_options(_load: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The user's nodes and sites to filter by."""
    _ = translator(user_lang())
    with services().read() as db:
        nodes = [{"label": f"{n.node_id} · {n.description}" if n.description else n.node_id, "value": n.node_id}
                 for n in node_service.list_nodes(db, user_id())]
        sites = [{"label": s.name, "value": str(s.id)} for s in site_service.list_sites(db, user_id())]
    return nodes, [{"label": _("All sites"), "value": "all"}, *sites]


@callback(Output(RANGE, "start_date"), Output(RANGE, "end_date"), Input(PERIOD, "value"), State(WANTED, "data"))
def period_range(period: Any, wanted: Any = None) -> tuple[str, str]:
    """A sensible range when the granularity changes, or the one a link asked for at that granularity."""
    if isinstance(wanted, dict) and wanted.get("period") == period:
        asked = parse_request(period, wanted.get("start"), wanted.get("end"))
        if not isinstance(asked, str):
            return asked.start.isoformat(), (asked.end - timedelta(days=1)).isoformat()
    first, end = default_range(period if isinstance(period, str) else "day", today(user_timezone()))
    return first.isoformat(), (end - timedelta(days=1)).isoformat()  # the picker shows the last day


def _energy(request: AnalysisRequest, requested: Any, site: Any = "all") -> tuple[Any, list[str], list[int]]:
    """Energy table of the user's requested nodes of the site (all of its nodes when none), those nodes, the marks."""
    tz = user_timezone()
    with services().read() as db:
        try:
            node_ids = bill.selected_nodes(db, user_id(), site, requested)
        except site_service.SiteNotFound:
            node_ids = []
    marks = boundaries(request.start, request.end, request.period, tz)
    return load_energy(services().store, node_ids, marks, tz), node_ids, marks


def _stat(label: str, value: str, note: str = "", stat_id: str = "", cost: str = "") -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-label"),
        html.Div(value, className="kpi-value"),
        html.Div(cost, className="fw-semibold") if cost else None,
        html.Small(note, className="text-body-secondary"),
    ]), class_name="kpi-card h-100 shadow-sm", id=stat_id or None), xs=12, sm=6, xl=3)


def stats_view(stats: EnergyStats, period: str, _: Any, costs: CostStats | None = None, currency: str = "", *,
               lang: str) -> html.Div:
    """Total, average, peak, change and each node's share, with costs when every site shown has a price."""

    def money(value: float | None) -> str:
        return "" if costs is None or value is None else fmt.money(lang, value, currency)

    peak = "—" if stats.peak_start is None else stats.peak_start.strftime(
        # An hour carries its UTC offset: on the day clocks go back, 02:00 happens twice.
        {"hour": "%Y-%m-%d %H:%M (UTC%z)", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period])
    change = fmt.percent(lang, stats.change, signed=True) if stats.change is not None else "—"
    previous = fmt.energy(lang, stats.previous_kwh)
    # A running range (today, this year) is compared with the same elapsed part of the one before.
    previous_note = (_("same point of the previous period: {kwh} kWh", kwh=previous) if stats.partial
                     else _("previous: {kwh} kWh", kwh=previous))
    shares = [
        html.Tr([html.Td(node), html.Td(f"{fmt.energy(lang, stats.node_totals[node])} kWh", className="text-end"),
                 html.Td(money(costs.nodes.get(node) if costs else None), className="text-end"),
                 html.Td(fmt.percent(lang, share), className="text-end")])
        for node, share in sorted(stats.shares.items(), key=lambda item: -item[1])
    ]
    return html.Div([
        dbc.Row([
            _stat(_("Total"), f"{fmt.energy(lang, stats.total_kwh)} kWh", stat_id="analysis-total",
                  cost=money(costs and costs.total)),
            _stat(_("Average per period"), f"{fmt.energy(lang, stats.average_kwh)} kWh", stat_id="analysis-average",
                  cost=money(costs and costs.average)),
            _stat(_("Peak period"), f"{fmt.energy(lang, stats.peak_kwh)} kWh", peak, stat_id="analysis-peak",
                  cost=money(costs and costs.peak)),
            _stat(_("Change vs previous period"), change,
                  previous_note, stat_id="analysis-change",
                  cost=money(costs and costs.previous)),
        ], class_name="g-3 mb-3"),
        dbc.Table([html.Thead(html.Tr([html.Th(_("Node ID")), html.Th(_("Energy"), className="text-end"),
                                       html.Th(_("Cost") if costs is not None else "", className="text-end"),
                                       html.Th(_("Share"), className="text-end")])),
                   html.Tbody(shares)], size="sm", hover=True, id="analysis-shares"),
    ])


@callback(
    Output(CHART, "figure"),
    Output(STATS, "children"),
    Output(MESSAGE, "children"),
    Output(MESSAGE, "is_open"),
    Input(PERIOD, "value"),
    Input(RANGE, "start_date"),
    Input(RANGE, "end_date"),
    Input(NODES, "value"),
    Input(ids.THEME_RESOLVED, "data"),
    Input(SITE, "value"),
)
def analyse(period: Any, start: Any, end: Any, requested: Any, theme: Any, site: Any = "all") -> tuple[Any, ...]:
    """Energy per period for the selected nodes, stacked, with its statistics."""
    lang = user_lang()
    _ = translator(lang)
    request = parse_request(period, start, end)
    if isinstance(request, str):
        return no_update, no_update, _(ERRORS[request]), True
    now = time.time()
    try:
        table, node_ids, marks = _energy(request, requested, site)
        before = previous_range(request.period, request.start, request.end, user_timezone(), now=now)
        previous = previous_energy(services().store, node_ids, before)
        costs, previous_cost, currency = _costs(requested, site, marks, before)
    except StoreUnavailable:
        return no_update, no_update, _(ERRORS["store"]), True
    stats = energy_stats(table, previous, now, running(marks, now))
    money = None if costs is None else cost_stats(costs, stats, previous_cost, now)
    figure = energy_figure(table, request.period, theme, _("Total"), currency=currency, lang=lang, costs=costs)
    return figure, stats_view(stats, request.period, _, money, currency, lang=lang), "", False


def _costs(requested: Any, site: Any, marks: list[int], before: list[int]) -> tuple[Any, float | None, str]:
    """(cost table or None, the previous range's cost, currency): each node at its own site's tariffs."""
    tz, store = user_timezone(), services().store
    with services().read() as db:
        currency = accounts.tariff(db, user_id())[1]
        try:
            sites = bill_service.pricings(db, user_id(), site, requested)
        except site_service.SiteNotFound:
            sites = []
    costs = bill_service.period_costs(store, sites, marks, tz)
    if costs is None:
        return None, None, currency
    previous = bill_service.range_cost(store, sites, before[0], before[-1], tz) if before[-1] > before[0] else 0.0
    return costs, previous, currency


@callback(
    Output(DOWNLOAD, "data"),
    Input(DOWNLOAD_BUTTON, "n_clicks"),
    State(PERIOD, "value"),
    State(RANGE, "start_date"),
    State(RANGE, "end_date"),
    State(NODES, "value"),
    State(SITE, "value"),
    prevent_initial_call=True,
)
def download(clicks: Any, period: Any, start: Any, end: Any, requested: Any, site: Any = "all") -> Any:
    """The CSV of what is shown: period_start,node_id,energy_kwh."""
    request = parse_request(period, start, end)
    if not clicks or isinstance(request, str):
        return no_update
    table, _nodes, _marks = _energy(request, requested, site)  # the CSV needs no comparison
    name = f"enertrack-{request.period}-{request.start}-{request.end - timedelta(days=1)}.csv"  # last day shown
    return {"content": export_csv(table, user_timezone()), "filename": name, "type": "text/csv"}
