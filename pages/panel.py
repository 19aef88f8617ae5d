"""Panel: the installation at a glance, live (numbers change in place, the page is not redrawn)."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from enertrack.config import URL_PREFIX
from enertrack.core.magnitudes import BY_NAME
from enertrack.core.status import NodeStatus
from enertrack.i18n import N_, translator
from enertrack.web.context import services
from enertrack.web.services.panel import KPI_NAMES, NodeLive, Overview, overview
from enertrack.web.services.panel_today import BUCKET_S, today_view
from enertrack.web.services.sites import SiteNotFound
from enertrack.web.ui import fmt, ids, insights, panel_chart, plot_theme
from enertrack.web.ui.user import page_lang, user_id, user_lang, user_timezone

dash.register_page(__name__, path="/", title="EnerTrack")
insights.register()  # the Insights section's callbacks, registered with each app that runs this page

TICK = "panel-tick"
UPDATED = "panel-updated"
KPIS = "panel-kpis"
TBODY = "panel-nodes-body"
TABLE = "panel-nodes"
EMPTY = "panel-empty"
TODAY = "panel-today"
TODAY_STATE = "panel-today-state"  # {"day", "last", "nodes"}: what the chart shows, to patch it
CELL = "panel-cell"  # pattern-matching type of the row cells a tick updates: {"type", "node", "cell"}
REFRESH_MS = 5000
STATUS_LABEL = {NodeStatus.ACTIVE: N_("Active"), NodeStatus.DISCONNECTED: N_("Disconnected"),
                NodeStatus.NO_DATA: N_("No data")}
STATUS_COLOR = {NodeStatus.ACTIVE: "success", NodeStatus.DISCONNECTED: "danger", NodeStatus.NO_DATA: "secondary"}


class CardSpec(NamedTuple):  # not a dataclass: Dash imports pages outside sys.modules
    """One KPI card: what it shows and how it is labelled (the value arrives with each tick)."""

    name: str
    label: str  # catalogue msgid
    unit: str
    icon: str


CARDS: tuple[CardSpec, ...] = (
    *(CardSpec(name, BY_NAME[name].label, BY_NAME[name].unit, BY_NAME[name].icon) for name in KPI_NAMES),
    CardSpec("total_power", N_("Total power now"), "W", "bi-plug"),
    CardSpec("energy_today", N_("Energy today"), "kWh", "bi-calendar-day"),
)
# What a tick sets in each row, as (cell, property): the rows themselves stay on the page.
ROW_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("status", "color"), ("status", "class_name"), ("label", "children"), ("description", "children"),
    ("seen", "children"), ("power", "children"),
)


def value_id(name: str) -> str:
    """Id of a KPI card's number."""
    return f"panel-kpi-{name}"


def unit_id(name: str) -> str:
    """Id of a KPI card's unit."""
    return f"panel-kpi-unit-{name}"


def cell_id(node_id: str, cell: str) -> dict[str, str]:
    """Pattern-matching id of one of a row's updatable parts."""
    return {"type": CELL, "node": node_id, "cell": cell}


def _card(spec: CardSpec, _: Any) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div([html.I(className=f"bi {spec.icon} me-1"), _(spec.label)], className="kpi-label"),
                    html.Div([html.Span("—", id=value_id(spec.name), className="kpi-value"),
                              html.Span(spec.unit, id=unit_id(spec.name), className="kpi-unit")]),
                ]
            ),
            class_name="kpi-card h-100 shadow-sm",
            id={"type": "kpi", "name": spec.name},
        ),
        xs=6, md=4, xl=True,
    )


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Frame of the panel with its cards; the numbers and rows arrive from the refresh callback."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    return html.Div(
        [
            html.Div(
                [html.H1(_("Panel"), className="h3 mb-0"), insights.site_filter(_),
                 html.Small(id=UPDATED, className="text-body-secondary ms-auto")],
                className="d-flex flex-wrap column-gap-3 row-gap-1 align-items-baseline mb-3",  # wraps on a phone
            ),
            dcc.Interval(id=TICK, interval=REFRESH_MS),
            html.P(_("Averages over your active nodes, total power and energy used today."),
                   className="text-body-secondary small mb-2"),
            dbc.Row([_card(spec, _) for spec in CARDS], id=KPIS, class_name="g-3 mb-4"),
            dbc.Card(dbc.CardBody([
                html.Div(_("Today"), className="kpi-label mb-1"),
                dcc.Graph(id=TODAY, figure=panel_chart.BLANK, config=plot_theme.graph_config(lang, responsive=True),
                          style={"height": f"{panel_chart.HEIGHT_PX}px"}),
            ], class_name="p-2"), class_name="shadow-sm mb-4"),
            dcc.Store(id=TODAY_STATE),
            insights.section(_),
            dbc.Alert(
                [_("You have no nodes yet."), " ",
                 dcc.Link(_("Add your first node"), href=URL_PREFIX + "nodes", className="alert-link")],
                id=EMPTY, color="info", is_open=False,
            ),
            dbc.Table(
                [
                    html.Thead(html.Tr([html.Th(_("Status")), html.Th(_("Node ID")), html.Th(_("Description")),
                                        html.Th(_("Last reading")), html.Th(_("Power"), className="text-end")])),
                    html.Tbody(id=TBODY),
                ],
                id=TABLE, hover=True, responsive=True, style={"display": "none"},
            ),
        ]
    )


def card_values(data: Overview, lang: str) -> dict[str, tuple[str, str]]:
    """(number, unit) of each card in lang's number format: averaged KPIs, total power, energy today."""
    values = {name: (fmt.number(lang, name, data.kpis.get(name)), BY_NAME[name].unit) for name in KPI_NAMES}
    values["total_power"] = fmt.power(lang, data.total_power)
    values["energy_today"] = (fmt.energy(lang, data.energy_today), "kWh")
    return values


def row_cells(node: NodeLive, now: float, _: Any, lang: str) -> dict[tuple[str, str], str]:
    """What one row shows, by (cell, property) of ROW_OUTPUTS."""
    value, unit = fmt.power(lang, node.power if node.status is NodeStatus.ACTIVE else None)
    return {
        ("status", "color"): STATUS_COLOR[node.status],
        ("status", "class_name"): f"node-status node-status-{node.status.value}",
        ("label", "children"): _(STATUS_LABEL[node.status]),
        ("description", "children"): node.description,
        ("seen", "children"): fmt.age(lang, now - node.last_ts) if node.last_ts is not None else _("never"),
        ("power", "children"): f"{value} {unit}" if value != "—" else "—",
    }


def _row(node_id: str, cells: dict[tuple[str, str], str]) -> html.Tr:
    return html.Tr(
        [
            html.Td(dbc.Badge([html.I(className="bi bi-circle-fill me-1"),
                               html.Span(cells["label", "children"], id=cell_id(node_id, "label"))],
                              id=cell_id(node_id, "status"), color=cells["status", "color"],
                              class_name=cells["status", "class_name"])),
            html.Td(dcc.Link(node_id, href=f"{URL_PREFIX}nodes/{node_id}"), className="text-break-all"),
            html.Td(cells["description", "children"], id=cell_id(node_id, "description")),
            html.Td(cells["seen", "children"], id=cell_id(node_id, "seen")),
            html.Td(cells["power", "children"], id=cell_id(node_id, "power"), className="text-end"),
        ],
        id={"type": "panel-row", "node": node_id},
    )


@callback(
    Output(UPDATED, "children"),
    *[Output(value_id(spec.name), "children") for spec in CARDS],
    Output(unit_id("total_power"), "children"),
    Output(TBODY, "children"),
    Output(EMPTY, "is_open"),
    Output(TABLE, "style"),
    *[Output({"type": CELL, "node": ALL, "cell": cell}, prop) for cell, prop in ROW_OUTPUTS],
    Input(TICK, "n_intervals"),
    Input(insights.SITE, "value"),
)
def refresh(_tick: Any, site: Any = "all") -> tuple[Any, ...]:
    """Numbers and row cells set in place; the rows are rebuilt only when the set of nodes changes.

    Replacing a component, even through a Patch, makes React mount it anew; setting a text or
    a prop of one already on the page does not, so nothing is redrawn on a tick.
    """
    lang = user_lang()
    _ = translator(lang)
    now = time.time()
    app = services()
    with app.read() as db:
        try:
            data = overview(db, app.store, user_id(), user_timezone(), now, site)
        except SiteNotFound:  # not one of theirs: the panel of all their nodes, nothing of anyone else's
            data = overview(db, app.store, user_id(), user_timezone(), now)
    values = card_values(data, lang)
    cells = {n.node_id: row_cells(n, now, _, lang) for n in data.nodes}
    ids = list(cells)
    updated = (_("Updated {age}", age=fmt.age(lang, now - data.updated_ts)) if data.updated_ts is not None
               else _("No live data yet"))
    # The rows on the page, as the browser lists them for each wildcard output (untrusted).
    on_page = [[entry["id"].get("node") for entry in outputs] for outputs in ctx.outputs_list[-len(ROW_OUTPUTS):]]
    rebuild = on_page[0] != ids
    tbody = [_row(node, cells[node]) for node in ids] if rebuild else no_update
    row_values = [
        [no_update if rebuild or node not in cells else cells[node][key] for node in nodes]
        for key, nodes in zip(ROW_OUTPUTS, on_page, strict=True)
    ]
    return (updated, *(values[spec.name][0] for spec in CARDS), values["total_power"][1], tbody,
            not ids, {"display": "none"} if not ids else {}, *row_values)


@callback(Output(TODAY, "figure"), Output(TODAY_STATE, "data"), Input(TICK, "n_intervals"),
          State(TODAY_STATE, "data"), State(ids.THEME_RESOLVED, "data"))
def today_chart(_tick: Any, state: Any, theme: Any) -> tuple[Any, Any]:
    """Today's power and energy by hour: drawn once, then each tick patches the newest buckets."""
    lang = user_lang()
    _ = translator(lang)
    tz, now, app = user_timezone(), time.time(), services()
    with app.read() as db:
        data = today_view(db, app.store, user_id(), tz, now, state)
    drawn = {"day": data.marks[0], "last": int(data.power.ts[-1]), "nodes": data.nodes}
    if data.resumed is None:
        words = {"total": _("Total"), "energy": _("Energy")}
        return panel_chart.today_figure(data.power, data.energy, tz, theme, lang, words), drawn
    points = (data.resumed - data.marks[0]) // BUCKET_S + 1  # what the chart holds: midnight to resumed
    return panel_chart.patch_today(data.power, data.energy, tz, points), drawn


@callback(Output(TODAY, "figure", allow_duplicate=True), Input(ids.THEME_RESOLVED, "data"),
          prevent_initial_call=True)
def retheme_today(theme: Any) -> Patch:
    """Light or dark chart when the theme changes: the layout is patched, the data stays."""
    patch = Patch()
    panel_chart.retheme_today(patch, theme)
    return patch
