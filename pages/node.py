"""A node's dashboard: one chart per magnitude over a range, its numbers, live updates, CSV."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from enertrack.config import URL_PREFIX
from enertrack.web.context import services
from enertrack.web.downloads import readings_url
from enertrack.i18n import N_, translator
from enertrack.core.magnitudes import BY_NAME, MAGNITUDES, NAMES, Magnitude
from enertrack.web.services.node_dashboard import (
    CUSTOM,
    DEFAULT_PRESET,
    MAX_CUSTOM_DAYS,
    Dashboard,
    LiveUpdate,
    TimeRange,
    load,
    load_since,
    preset_range,
    resolve_range,
)
from enertrack.web.services.nodes import NodeNotFound, NodeView, owned
from enertrack.store.base import Extreme, RangeSummary, StoreUnavailable
from enertrack.ingest.users_db import recent_rejections
from enertrack.web.ui import charts, fmt, ids, plot_theme
from enertrack.web.ui.forms import date_range
from enertrack.web.ui.live import Drawn, LiveState, new_generation
from enertrack.web.ui.reasons import EXPLANATIONS
from enertrack.web.ui.user import user_id, user_lang, user_timezone, user_translator

dash.register_page(__name__, path_template="/nodes/<node_id>", title="EnerTrack")

NODE = "node-store"
STATE = "node-state"
TICK = "node-tick"
LIVE = "node-live"  # a tick's answer, applied by the browser only if it still matches STATE
MISSING = "node-missing"
FRAME = "node-frame"
TITLE = "node-title"
SUBTITLE = "node-subtitle"
PRESET = "node-preset"
CUSTOM_BOX = "node-custom"
DATES = "node-dates"
MESSAGE = "node-message"
DOWNLOAD = "node-download"
CHART = {name: f"node-chart-{name}" for name in NAMES}
STATS = {name: f"node-stats-{name}" for name in NAMES}
REJECTIONS = "node-rejections"
REJECTIONS_SHOWN = 20
TICK_MS = 5000
PRESET_LABELS = (("1h", N_("1 hour")), ("24h", N_("24 hours")), ("7d", N_("7 days")), ("30d", N_("30 days")),
                 ("1y", N_("1 year")), (CUSTOM, N_("Custom")))
ERRORS = {
    "bad_preset": N_("Choose one of the ranges."),
    "bad_date": N_("Choose a start and an end date."),
    "end_before_start": N_("The end date cannot be before the start date."),
    "too_long": N_("That range is too long: choose at most three years, or download the CSV."),
    "store": N_("The readings are not available right now. Try again in a minute."),
}
# A chart frame with nothing drawn yet: transparent, so dark mode never flashes white.
BLANK = {"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                                "xaxis": {"visible": False}, "yaxis": {"visible": False},
                                "height": charts.HEIGHT_PX}}
HIDDEN = {"display": "none"}


def _chart_card(magnitude: Magnitude, _: Any, lang: Any) -> dbc.Col:
    unit = f" ({magnitude.unit})" if magnitude.unit else ""
    return dbc.Col(
        dbc.Card(
            [
                dbc.CardHeader(_(magnitude.label) + unit, class_name="fw-semibold"),
                dbc.CardBody(
                    [
                        html.Div(id=STATS[magnitude.name], className="node-stats mb-2"),
                        dcc.Graph(id=CHART[magnitude.name], figure=BLANK,
                                  config=plot_theme.graph_config(lang, responsive=True),
                                  style={"height": f"{charts.HEIGHT_PX}px"}),
                    ],
                    class_name="p-2",
                ),
            ],
            class_name="h-100 shadow-sm node-chart-card",
        ),
        lg=6,
    )


def layout(node_id: Any = None, lang: Any = None, **_kwargs: Any) -> html.Div:
    """The page frame; a callback checks the node is the user's before anything is shown."""
    _ = translator(lang)
    return html.Div(
        [
            dcc.Store(id=NODE, data=node_id if isinstance(node_id, str) else None),
            dcc.Store(id=STATE, data=None),
            dcc.Store(id=LIVE, data=None),
            dcc.Interval(id=TICK, interval=TICK_MS, disabled=True),
            html.Div(id=MISSING),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div([html.H1(id=TITLE, className="h3 mb-0 text-break-all"),
                                      html.Small(id=SUBTITLE, className="text-body-secondary")]),
                            dcc.Link([html.I(className="bi bi-arrow-left me-1"), _("All nodes")],
                                     href=URL_PREFIX + "nodes", className="btn btn-link"),
                        ],
                        className="d-flex justify-content-between align-items-start mb-3",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(dbc.RadioItems(
                                id=PRESET,
                                options=[{"label": _(label), "value": value} for value, label in PRESET_LABELS],
                                value=DEFAULT_PRESET, inline=True, class_name="btn-group flex-wrap",
                                input_class_name="btn-check", label_class_name="btn btn-outline-primary",
                                label_checked_class_name="active"), width="auto"),
                            dbc.Col(html.Div(
                                [date_range(DATES, _),
                                 html.Small(_("From the start of the first day to the end of the last, "
                                              "at most {days} days.", days=MAX_CUSTOM_DAYS),
                                            className="text-body-secondary ms-2")],
                                className="d-flex align-items-center"), id=CUSTOM_BOX, style=HIDDEN, width="auto"),
                            dbc.Col(html.A([html.I(className="bi bi-download me-1"), _("Download CSV")],
                                           id=DOWNLOAD, href=None, className="btn btn-outline-secondary"),
                                    width="auto", class_name="ms-auto"),
                        ],
                        class_name="g-2 align-items-center mb-3",
                    ),
                    dbc.Alert(id=MESSAGE, color="warning", is_open=False),
                    dbc.Row([_chart_card(m, _, lang) for m in MAGNITUDES], class_name="g-3"),
                    html.Div(id=REJECTIONS, className="mt-4"),
                ],
                id=FRAME,
                style=HIDDEN,
            ),
        ]
    )


clientside_callback(
    "function(preset) { return preset === 'custom' ? {} : {display: 'none'}; }",
    Output(CUSTOM_BOX, "style"),
    Input(PRESET, "value"),
)


def _stat(label: str, value: str, when: str, kind: str) -> dbc.Col:
    return dbc.Col(
        [html.Div(label, className="kpi-label"),
         html.Div(value, className=f"node-stat-value node-stat-{kind}"),
         html.Small(when, className="text-body-secondary node-stat-when")],
        xs=4,
    )


def stats_view(magnitude: Magnitude, summary: RangeSummary, current: Extreme | None, now: float,
               tz: str, lang: str) -> dbc.Row:
    """Current value with its last update, and the range's maximum and minimum with when."""
    _ = translator(lang)
    unit = f" {magnitude.unit}" if magnitude.unit else ""

    def value(extreme: Extreme | None) -> str:
        return "—" if extreme is None else magnitude.format(extreme.value, lang) + unit

    def when(extreme: Extreme | None) -> str:
        return "" if extreme is None else fmt.local_time(extreme.ts, tz)

    updated = _("never") if current is None else f"{when(current)} · {fmt.age(lang, now - current.ts)}"
    return dbc.Row(
        [
            _stat(_("Now"), value(current), updated, "current"),
            _stat(_("Maximum"), value(summary.maximum), when(summary.maximum), "max"),
            _stat(_("Minimum"), value(summary.minimum), when(summary.minimum), "min"),
        ],
        class_name="g-1",
    )


def _labels(_: Any) -> charts.Labels:
    return charts.Labels(_("Maximum"), _("Minimum"), _("Average"), _("No readings in this range"))


def _not_found(_: Any) -> html.Div:
    """The same answer for a missing node and for someone else's: nothing about it."""
    return html.Div(
        [
            html.H1(_("Node not found"), className="h3"),
            html.P(_("That node does not exist.")),
            dbc.Button(_("Back to your nodes"), href=URL_PREFIX + "nodes", color="primary"),
        ],
        className="py-5 text-center",
        id="node-not-found",
    )


def _subtitle(node: NodeView) -> str:
    return " · ".join(part for part in (node.description, node.location) if part)


def _counted(points: dict[str, charts.Points], preset: str) -> dict[str, Drawn]:
    """What a live view has drawn of each magnitude, counted per slot."""
    slot = LiveState.slot_of(preset)
    return {name: Drawn().add(p.owner.tolist(), slot) for name, p in points.items()}


def _live_state(board: Dashboard, points: dict[str, charts.Points], axis: charts.TimeAxis) -> dict[str, Any] | None:
    """A fresh draw's live state (a new generation), or None for a range that does not tick."""
    rng = board.range
    if not rng.live:
        return None
    return LiveState(board.node.node_id, rng.preset, rng.width, rng.chart_end, _counted(points, rng.preset),
                     new_generation(), 0, axis.instants).to_json()


def _axis(rng: TimeRange, tz: str) -> charts.TimeAxis:
    """How the charts of rng draw time: fixed ranges show all of it, live ones follow the data."""
    return charts.time_axis(tz, rng.start, rng.chart_end, rng.width, fixed=not rng.live)


def _drawing(board: Dashboard, tz: str, lang: str, theme: Any,
             now: float) -> tuple[list[Any], list[Any], dict[str, charts.Points], charts.TimeAxis]:
    """The six figures and their numbers for a whole board, with the points and axis drawn."""
    rng, node = board.range, board.node
    _ = translator(lang)
    axis = _axis(rng, tz)
    clock = "utc" if axis.instants else "local"  # a zoom kept across a change of axis would be an hour off
    uirevision = f"{node.node_id}:{rng.preset}:{rng.start}:{rng.end if not rng.live else ''}:{clock}"
    gap = charts.gap_seconds(rng.width, node.interval_s)
    points = {name: charts.points(data.series, BY_NAME[name], gap) for name, data in board.magnitudes.items()}
    figures = [charts.magnitude_figure(points[name], BY_NAME[name], _labels(_), theme, uirevision, axis, lang)
               for name in NAMES]
    numbers = [stats_view(BY_NAME[name], data.summary, data.current, now, tz, lang)
               for name, data in board.magnitudes.items()]
    return figures, numbers, points, axis


def _download(node_id: str, rng: TimeRange) -> str:
    return readings_url(node_id, rng.start, None if rng.live else rng.end)


def _nothing_for(_: Any) -> tuple[Any, ...]:
    """Not found: hide the frame, blank every chart and number, stop the ticks."""
    return (_not_found(_), HIDDEN, "", "", "", False, None, None, True,
            *[BLANK for _n in NAMES], *[None for _n in NAMES])


def _message(text: str, *, stop: bool) -> tuple[Any, ...]:
    """Keep what is drawn and say what is wrong with the request."""
    live = (None, True) if stop else (no_update, no_update)
    return (None, {}, no_update, no_update, text, True, no_update, *live,
            *[no_update for _n in NAMES], *[no_update for _n in NAMES])


@callback(
    Output(MISSING, "children"),
    Output(FRAME, "style"),
    Output(TITLE, "children"),
    Output(SUBTITLE, "children"),
    Output(MESSAGE, "children"),
    Output(MESSAGE, "is_open"),
    Output(DOWNLOAD, "href"),
    Output(STATE, "data"),
    Output(TICK, "disabled"),
    *[Output(CHART[name], "figure") for name in NAMES],
    *[Output(STATS[name], "children") for name in NAMES],
    Input(NODE, "data"),
    Input(PRESET, "value"),
    Input(DATES, "start_date"),
    Input(DATES, "end_date"),
    State(ids.THEME_RESOLVED, "data"),
)
def draw(node_id: Any, preset: Any, start: Any, end: Any, theme: Any) -> tuple[Any, ...]:
    """The user's node over the chosen range; a clean 'not found' for any other node id."""
    if ctx.triggered_id == DATES and preset != CUSTOM:
        raise PreventUpdate  # dates only matter for a custom range
    lang, tz, now = user_lang(), user_timezone(), time.time()
    _ = translator(lang)
    app = services()
    try:
        with app.read() as db:
            owned(db, user_id(), node_id)
            rng = resolve_range(preset, start, end, tz, now)
            if isinstance(rng, str):
                return _message(_(ERRORS[rng]), stop=True)
            board = load(db, app.store, user_id(), node_id, rng)
    except NodeNotFound:
        return _nothing_for(_)
    except StoreUnavailable:
        return _message(_(ERRORS["store"]), stop=False)
    figures, numbers, points, axis = _drawing(board, tz, lang, theme, now)
    node = board.node
    return (None, {}, node.node_id, _subtitle(node), "", False, _download(node.node_id, rng),
            _live_state(board, points, axis), not rng.live, *figures, *numbers)


def _tick_answer(state: LiveState, figures: list[Any], numbers: list[Any], after: LiveState,
                 href: str) -> dict[str, Any]:
    """What the browser applies only while its state is still the one this tick started from."""
    return {"generation": state.generation, "seq": state.seq, "figures": figures, "stats": numbers,
            "state": after.to_json(), "href": href}


def _patches(state: LiveState, update: LiveUpdate, axis: charts.TimeAxis, window_start: int,
             empty_text: str) -> tuple[list[Patch], dict[str, Drawn]]:
    """Per magnitude: append the new buckets, drop those that left the window, and retick."""
    gap = charts.gap_seconds(state.width, update.node.interval_s)
    patches, drawn = [], {}
    for name in NAMES:
        before = state.drawn[name]
        new = charts.points(update.series.get(name), BY_NAME[name], gap, after=before.last)
        dropped, after = before.add(new.owner.tolist(), state.slot).trim(window_start, state.slot)
        patch = Patch()
        charts.append(patch, new, axis)
        charts.drop_oldest(patch, dropped, axis)  # after the append, so the count is exact either way
        charts.retick(patch, axis)
        if (before.total == 0) != (after.total == 0):
            charts.mark_empty(patch, after.total == 0, empty_text)
        patches.append(patch)
        drawn[name] = after
    return patches, drawn


@callback(
    Output(LIVE, "data"),
    Input(TICK, "n_intervals"),
    State(NODE, "data"),
    State(STATE, "data"),
    State(PRESET, "value"),
    State(ids.THEME_RESOLVED, "data"),
    prevent_initial_call=True,
)
def tick(_n: Any, node_id: Any, raw_state: Any, preset: Any, theme: Any) -> dict[str, Any]:
    """Live presets: append the buckets completed since the last tick, drop those that left the
    window, and refresh the numbers. The figures are patched, never redrawn, except once when
    clocks go back under a wall-clock chart: it is redrawn on real instants (charts.TimeAxis).

    The answer goes to LIVE, not to the charts: the browser applies it only if no redraw and
    no other tick happened since this one started (see live.py)."""
    state = LiveState.from_json(raw_state)
    if state is None or state.node != node_id or state.preset != preset:
        raise PreventUpdate  # a tick that started before the range was changed, or a forged one
    lang, tz, now = user_lang(), user_timezone(), time.time()
    window_start = int(now) + 1 - state.span
    app = services()
    try:
        with app.read() as db:
            update = load_since(db, app.store, user_id(), node_id, state.preset, state.width, state.through, now)
            # From the last bucket drawn (a forged `through` is clamped to the window, like load_since).
            last = max(state.through, window_start // state.width * state.width) - state.width
            backwards = not state.instants and charts.time_axis(tz, last, update.through, state.width,
                                                                fixed=False).instants
            board = load(db, app.store, user_id(), node_id, preset_range(state.preset, now)) if backwards else None
    except (NodeNotFound, StoreUnavailable):
        raise PreventUpdate from None
    href = readings_url(state.node, window_start, None)
    if board is not None:  # clocks went back: the wall clock would step back, so draw instants
        figures, numbers, points, axis = _drawing(board, tz, lang, theme, now)
        after = state.ticked(board.range.chart_end, _counted(points, state.preset), axis.instants)
        return _tick_answer(state, figures, numbers, after, href)
    axis = charts.TimeAxis(tz, window_start, update.through, fixed=False, instants=state.instants)
    patches, drawn = _patches(state, update, axis, window_start, _labels(translator(lang)).empty)
    numbers = [stats_view(BY_NAME[name], *update.numbers[name], now, tz, lang) for name in NAMES]
    return _tick_answer(state, patches, numbers, state.ticked(update.through, drawn, state.instants), href)


clientside_callback(
    """function(answer, state) {
        // A tick's answer patches the charts it was computed from: apply it only while this
        // page still shows that draw (generation) with no other tick applied since (seq).
        if (!answer || !state || answer.generation !== state.generation || answer.seq !== state.seq) {
            throw window.dash_clientside.PreventUpdate;
        }
        return answer.figures.concat(answer.stats, [answer.state, answer.href]);
    }""",
    *[Output(CHART[name], "figure", allow_duplicate=True) for name in NAMES],
    *[Output(STATS[name], "children", allow_duplicate=True) for name in NAMES],
    Output(STATE, "data", allow_duplicate=True),
    Output(DOWNLOAD, "href", allow_duplicate=True),
    Input(LIVE, "data"),
    State(STATE, "data"),
    prevent_initial_call=True,
)


@callback(
    *[Output(CHART[name], "figure", allow_duplicate=True) for name in NAMES],
    Input(ids.THEME_RESOLVED, "data"),
    State(NODE, "data"),
    prevent_initial_call=True,
)
def retheme(theme: Any, node_id: Any) -> tuple[Any, ...]:
    """Light or dark charts when the theme changes: the layout is patched, the data stays."""
    try:
        with services().read() as db:
            owned(db, user_id(), node_id)
    except NodeNotFound:
        raise PreventUpdate from None
    patches = []
    for _name in NAMES:
        patch = Patch()
        charts.retheme(patch, theme)
        patches.append(patch)
    return tuple(patches)


def rejections_view(rows: list[Any], tz: str, _: Any) -> Any:
    """The node's newest dead letters: when, why, and the start of what it sent (as text)."""
    if not rows:
        return html.Small([html.I(className="bi bi-check2-circle me-1"),
                           _("The ingest daemon has rejected no message from this node.")],
                          className="text-body-secondary")
    table = dbc.Table(
        [html.Thead(html.Tr([html.Th(_("Received")), html.Th(_("Reason")), html.Th(_("What to do")),
                             html.Th(_("Payload"))])),
         html.Tbody([html.Tr([html.Td(fmt.local_time(int(row.received_at.replace(tzinfo=UTC).timestamp()), tz)),
                              html.Td(html.Code(row.reason)),
                              html.Td([_(EXPLANATIONS[row.reason]) if row.reason in EXPLANATIONS else "",
                                       html.Div(row.message, className="small text-body-secondary")]),
                              html.Td(html.Code(row.excerpt, className="text-break-all"))]) for row in rows])],
        size="sm", responsive=True, id="node-rejections-table",
    )
    title = _("Messages the ingest daemon rejected ({count}, newest first)", count=len(rows))
    return dbc.Accordion([dbc.AccordionItem(table, title=title)], start_collapsed=True)


@callback(Output(REJECTIONS, "children"), Input(NODE, "data"))
def rejections(node_id: Any) -> Any:
    """Dead letters of the user's node (nothing for anyone else's)."""
    _ = user_translator()
    try:
        with services().read() as db:
            mine = owned(db, user_id(), node_id).node_id
    except NodeNotFound:
        return None
    rows = recent_rejections(services().sessions, mine, REJECTIONS_SHOWN)
    return rejections_view(rows, user_timezone(), _)
