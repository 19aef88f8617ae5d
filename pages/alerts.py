"""Alerts: rules (create, edit, pause, delete), presets, notifications, where they go, and the delivery log."""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from enertrack.i18n import translator
from enertrack.web.context import services
from enertrack.web.services import alerts as service
from enertrack.web.services.alerts import KINDS, LABELS, PRESETS, Kind, QuotaReached, RuleError
from enertrack.web.services.nodes import list_nodes
from enertrack.web.ui import ids
from enertrack.web.ui.alert_tables import (
    PRESET,
    READ,
    RULE_ACTION,
    deliveries_table,
    duration_text,
    events_list,
    rules_table,
)
from enertrack.web.ui.forms import field
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import page_lang, user_id, user_lang, user_timezone, user_translator

dash.register_page(__name__, path="/alerts", title="EnerTrack")

REFRESH = ids.ALERTS_REFRESH
EDITING = "alerts-editing"  # the rule id being edited, or None for a new rule
NODE, KIND, THRESHOLD, MIN, MAX, FOR = ("alert-node", "alert-kind", "alert-threshold", "alert-min", "alert-max",
                                        "alert-for")
SAVE, CANCEL, FORM_TITLE = "alert-save", "alert-cancel", "alert-form-title"
RULES, EVENTS, DELIVERIES, MARK_ALL = "alert-rules", "alert-events", "alert-deliveries", "alert-mark-all"
PRESET_NODE = "alert-preset-node"
PRESET_SLOT = "alert-preset-slot"
EMAIL, WEBHOOK, SECRET, QUIET, NOTIFY_SAVE, NOTIFY_LOAD = ("notify-email", "notify-webhook", "notify-secret",
                                                          "notify-quiet", "notify-save", "notify-load")
ALL_NODES = ""  # the node dropdown's value for "every node I own"


def _rule_form(_: Any) -> dbc.Card:
    kinds = [{"label": _(LABELS[Kind(k)]), "value": k} for k in KINDS]
    return dbc.Card(dbc.CardBody([
        html.H2(_("New rule"), id=FORM_TITLE, className="h6"),
        dbc.Row([
            dbc.Col(field(_("Node"), dcc.Dropdown(id=NODE, clearable=False, value=ALL_NODES)), md=3),
            dbc.Col(field(_("Rule"), dcc.Dropdown(id=KIND, options=kinds, value="voltage-low", clearable=False)),
                    md=3),
            dbc.Col(field(_("Threshold"), dbc.Input(id=THRESHOLD, inputmode="decimal", maxLength=12),
                          help_text=_("V, W, kWh, or a power factor")), md=2),
            dbc.Col(field(_("Min / max (Hz)"), dbc.InputGroup([
                dbc.Input(id=MIN, inputmode="decimal", maxLength=8, placeholder="49.5"),
                dbc.Input(id=MAX, inputmode="decimal", maxLength=8, placeholder="50.5")])), md=2),
            dbc.Col(field(_("For"), dbc.Input(id=FOR, value="1m", maxLength=10),
                          help_text=_("e.g. 90s, 10m, 1h")), md=2),
        ]),
        dbc.Button(_("Save rule"), id=SAVE, color="primary", n_clicks=0, class_name="me-2"),
        dbc.Button(_("Cancel"), id=CANCEL, color="secondary", outline=True, n_clicks=0),
    ]), class_name="shadow-sm mb-3")


def _notify_form(_: Any) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H2(_("Where alerts go"), className="h6"),
        html.P(_("Alerts always appear here and under the bell. E-mail and webhook are optional."),
               className="text-body-secondary small"),
        dbc.Row([
            dbc.Col(field(_("E-mail"), dbc.Input(id=EMAIL, type="email", maxLength=254)), md=6),
            dbc.Col(field(_("Quiet hours"), dbc.Input(id=QUIET, maxLength=11, placeholder="22:00-07:00"),
                          help_text=_("E-mail and webhook wait, then one summary is sent.")), md=6),
            dbc.Col(field(_("Webhook URL"), dbc.Input(id=WEBHOOK, maxLength=500, placeholder="https://")), md=6),
            dbc.Col(field(_("Webhook secret"), dbc.Input(id=SECRET, type="text", autocomplete="off", maxLength=128),
                          help_text=_("Signs each call (X-EnerTrack-Signature). Empty: keep it, or generate one.")),
                    md=6),
        ]),
        dbc.Button(_("Save"), id=NOTIFY_SAVE, color="primary", n_clicks=0),
    ]), class_name="shadow-sm mb-3")


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Page frame; everything about the user arrives through callbacks."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    return html.Div([
        html.H1(_("Alerts"), className="h3 mb-3"),
        dcc.Store(id=EDITING, data=None),
        dcc.Store(id=NOTIFY_LOAD, data=True),
        _rule_form(_),
        html.Div([dcc.Dropdown(id=PRESET_NODE, clearable=False, style={"minWidth": "14rem"}),
                  html.Div(id=PRESET_SLOT)], className="d-flex align-items-center gap-2 mb-3"),
        html.Div(id=RULES, className="mb-4"),
        html.Div([html.H2(_("Notifications"), className="h5 mb-0"),
                  dbc.Button(_("Mark all as read"), id=MARK_ALL, size="sm", color="secondary", outline=True,
                             n_clicks=0)], className="d-flex justify-content-between align-items-center mb-2"),
        html.Div(id=EVENTS, className="mb-4"),
        _notify_form(_),
        html.H2(_("Deliveries"), className="h6"),
        html.Div(id=DELIVERIES),
    ])


def _bump(counter: Any) -> int:
    return counter + 1 if isinstance(counter, int) and not isinstance(counter, bool) and 0 <= counter < 2**31 else 1


@callback(
    Output(RULES, "children"), Output(EVENTS, "children"), Output(DELIVERIES, "children"),
    Output(NODE, "options"), Output(PRESET_NODE, "options"), Output(PRESET_NODE, "value"),
    Input(REFRESH, "data"), State(PRESET_NODE, "value"),
)
def render(_refresh: Any, picked: Any) -> tuple[Any, ...]:
    """The logged-in user's rules, notifications, deliveries and nodes."""
    _, uid, lang, tz = user_translator(), user_id(), user_lang(), user_timezone()
    with services().read() as db:
        rules = service.list_rules(db, uid)
        events = service.notifications(db, uid)
        deliveries = service.delivery_log(db, uid)
        nodes = [n.node_id for n in list_nodes(db, uid)]
    options = [{"label": _("All nodes"), "value": ALL_NODES}] + [{"label": n, "value": n} for n in nodes]
    preset_value = picked if picked in nodes else (nodes[0] if nodes else None)
    return (rules_table(_, rules), events_list(_, events, lang, tz), deliveries_table(_, deliveries, tz),
            options, [{"label": n, "value": n} for n in nodes], preset_value)


@callback(Output(PRESET_SLOT, "children"), Input(PRESET_NODE, "value"))
def preset_slot(node: Any) -> Any:
    """The preset buttons for the node picked (ownership is checked when one is clicked)."""
    from enertrack.web.ui.alert_tables import preset_buttons

    return preset_buttons(user_translator(), node) if isinstance(node, str) and node else None


@callback(
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(EDITING, "data", allow_duplicate=True),
    Output(FORM_TITLE, "children", allow_duplicate=True),
    Input(SAVE, "n_clicks"), Input(CANCEL, "n_clicks"),
    State(EDITING, "data"), State(NODE, "value"), State(KIND, "value"), State(THRESHOLD, "value"),
    State(MIN, "value"), State(MAX, "value"), State(FOR, "value"), State(REFRESH, "data"),
    prevent_initial_call=True,
)
def save_rule(_save: Any, _cancel: Any, editing: Any, node: Any, kind: Any, threshold: Any, minimum: Any,
              maximum: Any, duration: Any, refresh: Any) -> tuple[Any, ...]:
    """Add a rule, or save the one being edited; Cancel leaves editing."""
    _ = user_translator()
    if ctx.triggered_id == CANCEL:
        return no_update, no_update, None, _("New rule")
    try:
        with services().transaction() as db:
            service.save_rule(db, user_id(), editing, node, kind, threshold, minimum, maximum, duration,
                              int(time.time()), quota=services().settings.quota_alert_rules)
    except RuleError as exc:
        return [toast(_("The rule was not saved: {reason}", reason=_(exc.msgid, **exc.values)), "danger")], \
            no_update, no_update, no_update
    return [toast(_("Rule saved."), "success")], _bump(refresh), None, _("New rule")


def _clicked() -> bool:
    """True for a real click (buttons appearing also fire pattern callbacks)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


@callback(
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Output(EDITING, "data", allow_duplicate=True),
    Output(FORM_TITLE, "children", allow_duplicate=True),
    Output(NODE, "value"), Output(KIND, "value"), Output(THRESHOLD, "value"), Output(MIN, "value"),
    Output(MAX, "value"), Output(FOR, "value"),
    Input({"type": RULE_ACTION, "rule": ALL, "action": ALL}, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def rule_action(_clicks: Any, refresh: Any) -> tuple[Any, ...]:
    """Edit (fill the form), pause, resume or delete one of the user's rules."""
    unchanged = (no_update,) * 6
    button = ctx.triggered_id
    if not _clicked() or not isinstance(button, dict) or not isinstance(button.get("rule"), int):
        return (no_update,) * 4 + unchanged
    _, rule, action = user_translator(), button["rule"], button.get("action")
    try:
        with services().transaction() as db:
            if action == "edit":
                found = service.find_rule(db, user_id(), rule)
                return (no_update, no_update, rule, _("Edit rule"), found.node_id or ALL_NODES, found.kind,
                        found.threshold, found.minimum, found.maximum, duration_text(found.for_s))
            if not service.act(db, user_id(), rule, action, int(time.time())):
                return (no_update,) * 4 + unchanged
    except RuleError:
        return ([toast(_("That rule no longer exists."), "warning")], _bump(refresh), None, no_update) + unchanged
    return ([toast(_("Rule updated."), "success")], _bump(refresh), no_update, no_update) + unchanged


@callback(
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": PRESET, "node": ALL, "preset": ALL}, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def apply_preset(_clicks: Any, refresh: Any) -> tuple[Any, Any]:
    """One click: the standard's voltage and frequency rules on that node (the node page uses it too)."""
    button = ctx.triggered_id
    if not _clicked() or not isinstance(button, dict):
        return no_update, no_update
    _ = user_translator()
    try:
        with services().transaction() as db:
            added = service.apply_preset(db, user_id(), button.get("node"), button.get("preset"), int(time.time()),
                                         quota=services().settings.quota_alert_rules)
    except QuotaReached as exc:
        return [toast(_("The preset was not applied: {reason}", reason=_(exc.msgid, **exc.values)), "danger")], \
            no_update
    except RuleError:
        return [toast(_("That preset cannot be applied to this node."), "danger")], no_update
    label = _(PRESETS[button["preset"]].label)
    return [toast(_("{preset}: {count} rules added.", preset=label, count=len(added)), "success")], _bump(refresh)


@callback(
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": READ, "event": ALL}, "n_clicks"), Input(MARK_ALL, "n_clicks"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def mark_read(_one: Any, _all: Any, refresh: Any) -> Any:
    """Mark one notification, or all of them, as read."""
    button = ctx.triggered_id
    if not _clicked():
        return no_update
    wanted = None if button == MARK_ALL else [button.get("event")] if isinstance(button, dict) else []
    with services().transaction() as db:
        service.mark_read(db, user_id(), wanted)
    return _bump(refresh)


@callback(Output(EMAIL, "value"), Output(WEBHOOK, "value"), Output(QUIET, "value"), Input(NOTIFY_LOAD, "data"))
def load_notify(_load: Any) -> tuple[str, str, str]:
    """The user's current e-mail, webhook and quiet hours (never the secret)."""
    with services().read() as db:
        found = service.get_notify(db, user_id())
    if found is None:
        return "", "", ""
    quiet = f"{found.quiet_start}-{found.quiet_end}" if found.quiet_start else ""
    return found.email or "", found.webhook_url or "", quiet


@callback(
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(SECRET, "value"),
    Input(NOTIFY_SAVE, "n_clicks"),
    State(EMAIL, "value"), State(WEBHOOK, "value"), State(SECRET, "value"), State(QUIET, "value"),
    prevent_initial_call=True,
)
def save_notify(clicks: Any, email: Any, webhook: Any, secret: Any, quiet: Any) -> tuple[Any, Any]:
    """Save where alerts go; a generated webhook secret is shown once, in the field."""
    _ = user_translator()
    if not clicks:
        return no_update, no_update
    settings = services().settings
    try:
        with services().transaction() as db:
            _found, generated = service.set_notify(db, user_id(), email=email or "", webhook_url=webhook or "",
                                                  webhook_secret=secret or "", quiet=quiet or "",
                                                  allow_private=settings.webhook_allow_private,
                                                  webhook_quota=settings.quota_webhooks)
    except RuleError as exc:
        return [toast(_("Not saved: {reason}", reason=_(exc.msgid, **exc.values)), "danger")], no_update
    if generated:
        return [toast(_("Saved. Copy the webhook secret now: it is not shown again."), "success")], generated
    return [toast(_("Saved."), "success")], ""
