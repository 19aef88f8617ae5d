"""A node's dashboard: one chart per magnitude over a range, its numbers, live updates, CSV."""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from enertrack.config import URL_PREFIX
from enertrack.core.magnitudes import MAGNITUDES, NAMES, Magnitude
from enertrack.i18n import N_, translator
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.downloads import readings_url
from enertrack.web.services.node_dashboard import (
    CUSTOM,
    DEFAULT_PRESET,
    MAX_CUSTOM_DAYS,
    TimeRange,
    load_numbers,
    load_series,
    load_since,
    preset_range,
    resolve_range,
)
from enertrack.web.services.node_health import node_health
from enertrack.web.services.nodes import NodeNotFound, NodeView, node_rejections, owned
from enertrack.web.ui import charts, connect, ids, in_view, plot_theme, quality
from enertrack.web.ui.alert_tables import preset_buttons
from enertrack.web.ui.forms import date_range
from enertrack.web.ui.health import health_card
from enertrack.web.ui.live import LiveState
from enertrack.web.ui.node_board import (
    chart_drawing,
    counted,
    download_url,
    labels,
    live_patches,
    live_state,
    numbers_view,
)
from enertrack.web.ui.rejections import rejections_view
from enertrack.web.ui.user import page_lang, user_id, user_lang, user_timezone, user_translator

dash.register_page(__name__, path_template="/nodes/<node_id>", title="EnerTrack")
quality.register()  # the power-quality card's callback, registered with each app that runs this page
connect.register()  # the "Connect a device" card's callbacks

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
HEALTH = "node-health"
# The four sections under the charts (health, power quality, rejected messages, connecting a
# device) are below the fold: their callbacks take the node id from BELOW, which the browser
# writes only when they come into view (ui/in_view), so the charts do not wait for them.
BELOW = quality.NODE_STORE
BELOW_BOX = "node-below-box"
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
                        # The chart's height is held before dcc.Graph's code has loaded, so the
                        # page below does not move up and down (and the sections under the charts
                        # do not look in view for a moment: ui/in_view).
                        html.Div(dcc.Graph(id=CHART[magnitude.name], figure=BLANK,
                                           config=plot_theme.graph_config(lang, responsive=True),
                                           style={"height": f"{charts.HEIGHT_PX}px"}),
                                 style={"minHeight": f"{charts.HEIGHT_PX}px"}),
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
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
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
                    preset_buttons(_, node_id) if isinstance(node_id, str) else None,  # handled in pages/alerts
                    dbc.Row(
                        [
                            dbc.Col(dbc.RadioItems(
                                id=PRESET,
                                options=[{"label": _(label), "value": value} for value, label in PRESET_LABELS],
                                value=DEFAULT_PRESET, inline=True, class_name="et-choice",
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
                    html.Div([
                        dcc.Store(id=BELOW),
                        html.Div(id=HEALTH, className="mt-4"),
                        quality.card(_),
                        html.Div(id=REJECTIONS, className="mt-4"),
                        html.Div(connect.section(_), className="mt-4"),
                    ], id=BELOW_BOX),
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


# The page's first answer: the node's name and numbers, the message, the CSV link. Its six charts
# come from a callback of their own, so the numbers are shown without waiting for the charts.
DRAW = dict(
    missing=Output(MISSING, "children"),
    frame=Output(FRAME, "style"),
    title=Output(TITLE, "children"),
    subtitle=Output(SUBTITLE, "children"),
    message=Output(MESSAGE, "children"),
    message_open=Output(MESSAGE, "is_open"),
    download=Output(DOWNLOAD, "href"),
    stats=[Output(STATS[name], "children") for name in NAMES],
)
CHARTS = dict(
    figures=[Output(CHART[name], "figure") for name in NAMES],
    state=Output(STATE, "data"),
    paused=Output(TICK, "disabled"),
)
RANGE_INPUTS = dict(node_id=Input(NODE, "data"), preset=Input(PRESET, "value"),
                    start=Input(DATES, "start_date"), end=Input(DATES, "end_date"))


def _answer(outputs: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A callback's answer: what is named changes, everything else stays as it is."""
    unchanged = {key: [no_update] * len(NAMES) if isinstance(out, list) else no_update for key, out in outputs.items()}
    return unchanged | values


def _nothing_for(_: Any) -> dict[str, Any]:
    """Not found: hide the frame, blank every number."""
    return _answer(DRAW, missing=_not_found(_), frame=HIDDEN, title="", subtitle="", message="", message_open=False,
                   download=None, stats=[None for _n in NAMES])


def _message(text: str) -> dict[str, Any]:
    """Keep what is shown and say what is wrong with the request."""
    return _answer(DRAW, missing=None, frame={}, message=text, message_open=True)


def _range(preset: Any, start: Any, end: Any, tz: str, now: float) -> TimeRange | str:
    """The range asked for; PreventUpdate when only the dates changed and they do not matter."""
    if ctx.triggered_id == DATES and preset != CUSTOM:
        raise PreventUpdate  # dates only matter for a custom range
    return resolve_range(preset, start, end, tz, now)


@callback(output=DRAW, inputs=RANGE_INPUTS)
def draw(node_id: Any, preset: Any, start: Any, end: Any) -> dict[str, Any]:
    """The user's node and its numbers over the chosen range; a clean 'not found' for any other node id."""
    lang, tz, now = user_lang(), user_timezone(), time.time()
    _ = translator(lang)
    rng = _range(preset, start, end, tz, now)
    app = services()
    try:
        with app.read() as db:
            owned(db, user_id(), node_id)
            if isinstance(rng, str):
                return _message(_(ERRORS[rng]))
            node, numbers = load_numbers(db, app.store, user_id(), node_id, rng)
    except NodeNotFound:
        return _nothing_for(_)
    except StoreUnavailable:
        return _message(_(ERRORS["store"]))
    return _answer(DRAW, missing=None, frame={}, title=node.node_id, subtitle=_subtitle(node), message="",
                   message_open=False, download=download_url(node.node_id, rng),
                   stats=numbers_view(numbers, now, tz, lang))


@callback(output=CHARTS, inputs=RANGE_INPUTS, state=dict(theme=State(ids.THEME_RESOLVED, "data")))
def draw_charts(node_id: Any, preset: Any, start: Any, end: Any, theme: Any) -> dict[str, Any]:
    """The six charts of the chosen range and the live state their ticks start from (draw says
    what is wrong with a range; here a bad one only stops the ticks, and the charts stay)."""
    lang, tz, now = user_lang(), user_timezone(), time.time()
    rng = _range(preset, start, end, tz, now)
    app = services()
    try:
        with app.read() as db:
            owned(db, user_id(), node_id)
            if isinstance(rng, str):
                return _answer(CHARTS, state=None, paused=True)
            node, series = load_series(db, app.store, user_id(), node_id, rng)
    except NodeNotFound:  # blank charts, no ticks
        return _answer(CHARTS, figures=[BLANK for _n in NAMES], state=None, paused=True)
    except StoreUnavailable:
        raise PreventUpdate from None  # draw says so; the charts stay and keep ticking
    drawing = chart_drawing(node, rng, series, tz, lang, theme)
    return _answer(CHARTS, figures=drawing.figures, state=live_state(node.node_id, rng, drawing),
                   paused=not rng.live)


def _tick_answer(state: LiveState, figures: list[Any], numbers: list[Any], after: LiveState,
                 href: str) -> dict[str, Any]:
    """What the browser applies only while its state is still the one this tick started from."""
    return {"generation": state.generation, "seq": state.seq, "figures": figures, "stats": numbers,
            "state": after.to_json(), "href": href}


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
            rng = preset_range(state.preset, now)
            redraw = load_series(db, app.store, user_id(), node_id, rng) if backwards else None
    except (NodeNotFound, StoreUnavailable):
        raise PreventUpdate from None
    href = readings_url(state.node, window_start, None)
    numbers = numbers_view(update.numbers, now, tz, lang)
    if redraw is not None:  # clocks went back: the wall clock would step back, so draw instants
        drawing = chart_drawing(redraw[0], rng, redraw[1], tz, lang, theme)
        after = state.ticked(rng.chart_end, counted(drawing.points, state.preset), drawing.axis.instants)
        return _tick_answer(state, drawing.figures, numbers, after, href)
    axis = charts.TimeAxis(tz, window_start, update.through, fixed=False, instants=state.instants)
    patches, drawn = live_patches(state, update, axis, window_start, labels(translator(lang)).empty)
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


in_view.fill_when_seen(NODE, BELOW_BOX, [BELOW, connect.NODE])


@callback(Output(REJECTIONS, "children"), Input(BELOW, "data"), prevent_initial_call=True)
def rejections(node_id: Any) -> Any:
    """Dead letters of the user's node (nothing for anyone else's)."""
    _ = user_translator()
    try:
        with services().read() as db:
            rows = node_rejections(db, user_id(), node_id, REJECTIONS_SHOWN)
    except NodeNotFound:
        return None
    return rejections_view(rows, user_timezone(), _)


@callback(Output(HEALTH, "children"), Input(BELOW, "data"), prevent_initial_call=True)
def health(node_id: Any) -> Any:
    """The user's node's latest device health (nothing for anyone else's), once its section comes into view."""
    lang = user_lang()
    try:
        with services().read() as db:
            view = node_health(db, user_id(), node_id)
    except NodeNotFound:
        return None
    return health_card(view, user_timezone(), lang, translator(lang))
