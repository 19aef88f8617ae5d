"""The Alerts page's lists (rules, notifications, deliveries) and the one-click preset buttons."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from enertrack.alerts.manage import RuleView
from enertrack.alerts.messages import EventView, headline, local_time
from enertrack.alerts.rules import LABELS, PRESETS, Kind
from enertrack.i18n_markers import N_

RULE_ACTION = "alert-rule-action"  # pattern type: {"type": RULE_ACTION, "rule": id, "action": edit|pause|...}
READ = "alert-read"  # pattern type: {"type": READ, "event": id}
PRESET = "alert-preset"  # pattern type: {"type": PRESET, "node": node_id, "preset": key}


def duration_text(seconds: int) -> str:
    """'10m', '90s', '2h': what the duration field accepts back."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _button(_: Any, rule: int, action: str, icon: str, label: str, color: str) -> dbc.Button:
    return dbc.Button([html.I(className=f"bi {icon} me-1"), _(label)], size="sm", color=color, outline=True,
                      id={"type": RULE_ACTION, "rule": rule, "action": action}, n_clicks=0)


def rules_table(_: Any, rows: list[RuleView]) -> Any:
    """The user's rules with edit, pause/resume and delete."""
    if not rows:
        return dbc.Alert(_("No rules yet. Add one above, or apply a preset to a node."), color="info",
                         id="alert-rules-empty")
    body = [
        html.Tr([
            html.Td(r.node_id or _("All nodes")),
            html.Td(f"{_(LABELS[Kind(r.kind)])} {r.limit}"),
            html.Td(duration_text(r.for_s)),
            html.Td(dbc.Badge(_("Paused") if r.paused else _("Active"), color="secondary" if r.paused else "success")),
            html.Td(dbc.ButtonGroup([
                _button(_, r.id, "edit", "bi-pencil", N_("Edit"), "secondary"),
                _button(_, r.id, "resume", "bi-play", N_("Resume"), "success") if r.paused
                else _button(_, r.id, "pause", "bi-pause", N_("Pause"), "warning"),
                _button(_, r.id, "delete", "bi-trash", N_("Delete"), "danger"),
            ]), className="text-end"),
        ], id={"type": "alert-rule-row", "rule": r.id})
        for r in rows
    ]
    header = html.Thead(html.Tr([html.Th(_("Node")), html.Th(_("Rule")), html.Th(_("For")), html.Th(_("State")),
                                 html.Th(_("Actions"), className="text-end")]))
    return dbc.Table([header, html.Tbody(body)], hover=True, responsive=True, class_name="align-middle",
                     id="alert-rules-list")


def events_list(_: Any, rows: list[tuple[EventView, bool]], lang: str, tz: str) -> Any:
    """Notifications (the alert history), newest first, unread ones marked."""
    if not rows:
        return html.P(_("No alerts so far."), className="text-body-secondary", id="alert-events-empty")
    items = [
        dbc.ListGroupItem([
            html.Div([
                html.I(className="bi " + ("bi-exclamation-triangle text-warning" if e.state == "firing"
                                          else "bi-check-circle text-success") + " me-2"),
                html.Span(headline(e, lang), className="" if read else "fw-semibold"),
                html.Small(" " + local_time(e.ts, tz), className="text-body-secondary ms-2"),
            ]),
            None if read else dbc.Button(_("Mark as read"), id={"type": READ, "event": e.id}, size="sm",
                                         color="link", n_clicks=0),
        ], class_name="d-flex justify-content-between align-items-center")
        for e, read in rows
    ]
    return dbc.ListGroup(items, id="alert-events-list")


def deliveries_table(_: Any, rows: list[Any], tz: str) -> Any:
    """The delivery log: channel, when, status, what the other end said."""
    if not rows:
        return html.P(_("Nothing sent yet."), className="text-body-secondary", id="alert-deliveries-empty")
    body = [html.Tr([html.Td(local_time(int(d.created_at.replace(tzinfo=UTC).timestamp()), tz)),
                     html.Td(d.channel), html.Td(_(STATUS.get(d.status, d.status))),
                     html.Td(d.attempts), html.Td(d.detail, className="text-break")]) for d in rows]
    header = html.Thead(html.Tr([html.Th(_("Queued")), html.Th(_("Channel")), html.Th(_("Status")),
                                 html.Th(_("Attempts")), html.Th(_("Answer"))]))
    return dbc.Table([header, html.Tbody(body)], size="sm", responsive=True, id="alert-deliveries-list")


STATUS = {"pending": N_("Pending"), "held": N_("Held (quiet hours)"), "sent": N_("Sent"), "failed": N_("Failed")}


def preset_buttons(_: Any, node_id: str) -> html.Div:
    """One click adds a supply standard's voltage and frequency rules to this node."""
    return html.Div([
        html.Span(_("Alert presets:"), className="text-body-secondary me-2"),
        dbc.ButtonGroup([
            # The standard's short name: the page around it holds no numbers before the node is checked.
            dbc.Button(p.short, id={"type": PRESET, "node": node_id, "preset": p.key}, size="sm",
                       color="secondary", outline=True, n_clicks=0)
            for p in PRESETS.values()
        ]),
    ], className="d-flex align-items-center flex-wrap gap-1 my-2")
