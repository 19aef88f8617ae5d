"""Panel: the installation at a glance, live (numbers are patched, the page is not redrawn)."""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, dcc, html

from enertrack.config import URL_PREFIX
from enertrack.context import services
from enertrack.i18n import N_, translator
from enertrack.magnitudes import BY_NAME
from enertrack.overview import KPI_NAMES, NodeLive, Overview, overview
from enertrack.status import NodeStatus
from enertrack.ui import fmt
from enertrack.ui.user import user_id, user_lang, user_timezone

dash.register_page(__name__, path="/", title="EnerTrack")

TICK = "panel-tick"
STATE = "panel-state"
UPDATED = "panel-updated"
KPIS = "panel-kpis"
TBODY = "panel-nodes-body"
TABLE = "panel-nodes"
EMPTY = "panel-empty"
REFRESH_MS = 5000
STATUS_LABEL = {NodeStatus.ACTIVE: N_("Active"), NodeStatus.DISCONNECTED: N_("Disconnected"),
                NodeStatus.NO_DATA: N_("No data")}
STATUS_COLOR = {NodeStatus.ACTIVE: "success", NodeStatus.DISCONNECTED: "danger", NodeStatus.NO_DATA: "secondary"}


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Frame of the panel; the numbers arrive from the refresh callback."""
    _ = translator(lang)
    return html.Div(
        [
            html.Div(
                [html.H1(_("Panel"), className="h3 mb-0"),
                 html.Small(id=UPDATED, className="text-body-secondary")],
                className="d-flex justify-content-between align-items-baseline mb-3",
            ),
            dcc.Interval(id=TICK, interval=REFRESH_MS),
            dcc.Store(id=STATE, data=None),
            html.P(_("Averages over your active nodes, total power and energy used today."),
                   className="text-body-secondary small mb-2"),
            dbc.Row(id=KPIS, class_name="g-3 mb-4"),
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
                id=TABLE, hover=True, responsive=True,
            ),
        ]
    )


def _card(name: str, label: str, value: str, unit: str, icon: str) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div([html.I(className=f"bi {icon} me-1"), label], className="kpi-label"),
                    html.Div([html.Span(value, className="kpi-value"), html.Span(unit, className="kpi-unit")]),
                ]
            ),
            class_name="kpi-card h-100 shadow-sm",
            id={"type": "kpi", "name": name},
        ),
        xs=6, md=4, xl=True,
    )


ICONS = {"voltage": "bi-lightning", "current": "bi-activity", "power": "bi-speedometer",
         "power_factor": "bi-percent", "frequency": "bi-soundwave"}


def kpi_texts(data: Overview, _: Any) -> list[tuple[str, str, str, str, str]]:
    """(name, label, value, unit, icon) of each card: averaged KPIs, total power, energy today."""
    cards = []
    for name in KPI_NAMES:
        magnitude = BY_NAME[name]
        cards.append((name, _(magnitude.label), fmt.number(name, data.kpis.get(name)), magnitude.unit, ICONS.get(name, "bi-dot")))
    value, unit = fmt.power(data.total_power)
    cards.append(("total_power", _("Total power now"), value, unit, "bi-plug"))
    cards.append(("energy_today", _("Energy today"), fmt.energy(data.energy_today), "kWh", "bi-calendar-day"))
    return cards


def row_texts(node: NodeLive, now: float, _: Any, lang: str) -> tuple[str, str, str, str, str, str]:
    """(node_id, status, status label, description, last seen, power) of one table row."""
    value, unit = fmt.power(node.power if node.status is NodeStatus.ACTIVE else None)
    seen = fmt.age(lang, now - node.last_ts) if node.last_ts is not None else _("never")
    return (node.node_id, node.status.value, _(STATUS_LABEL[node.status]), node.description, seen,
            f"{value} {unit}" if value != "—" else "—")


def _row(texts: tuple[str, str, str, str, str, str]) -> html.Tr:
    node_id, status, label, description, seen, power = texts
    color = STATUS_COLOR[NodeStatus(status)]
    return html.Tr(
        [
            html.Td(dbc.Badge([html.I(className="bi bi-circle-fill me-1"), label], color=color,
                              class_name=f"node-status node-status-{status}")),
            html.Td(dcc.Link(node_id, href=f"{URL_PREFIX}nodes/{node_id}"), className="text-break-all"),
            html.Td(description),
            html.Td(seen),
            html.Td(power, className="text-end"),
        ],
        id={"type": "panel-row", "node": node_id},
    )


def _valid_state(state: Any) -> bool:
    return (isinstance(state, dict) and isinstance(state.get("nodes"), list)
            and isinstance(state.get("cards"), list) and isinstance(state.get("rows"), list)
            and len(state["rows"]) == len(state["nodes"]))


@callback(
    Output(UPDATED, "children"),
    Output(KPIS, "children"),
    Output(TBODY, "children"),
    Output(EMPTY, "is_open"),
    Output(TABLE, "style"),
    Output(STATE, "data"),
    Input(TICK, "n_intervals"),
    State(STATE, "data"),
)
def refresh(_tick: Any, state: Any) -> tuple[Any, ...]:
    """Full render the first time; afterwards patch only the cards and rows that changed."""
    lang = user_lang()
    _ = translator(lang)
    now = time.time()
    app = services()
    with app.read() as db:
        data = overview(db, app.store, user_id(), user_timezone(), now)
    cards = [list(c) for c in kpi_texts(data, _)]
    rows = [list(row_texts(n, now, _, lang)) for n in data.nodes]
    ids = [n.node_id for n in data.nodes]
    updated = (_("Updated {age}", age=fmt.age(lang, now - data.updated_ts)) if data.updated_ts is not None
               else _("No live data yet"))
    new_state = {"nodes": ids, "cards": cards, "rows": rows}
    hidden = {"display": "none"} if not ids else {}
    if _valid_state(state) and state["nodes"] == ids and len(state["cards"]) == len(cards):
        card_patch, row_patch = Patch(), Patch()
        for i, card in enumerate(cards):
            if state["cards"][i] != card:
                card_patch[i] = _card(*card)
        for j, row in enumerate(rows):
            if state["rows"][j] != row:
                row_patch[j] = _row(tuple(row))  # type: ignore[arg-type]
        return updated, card_patch, row_patch, not ids, hidden, new_state
    return (updated, [_card(*c) for c in cards], [_row(tuple(r)) for r in rows],  # type: ignore[arg-type]
            not ids, hidden, new_state)
