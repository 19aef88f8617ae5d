"""The node page's power-quality card: one week's indicative EN 50160 figures and a CSV link.

Its own callback reads the page's node id store; node.py places card() in its layout and calls register().
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from enertrack.i18n import N_, translator
from enertrack.numerals import decimal
from enertrack.quality.report import FREQUENCY_SHARE_REQUIRED, VOLTAGE_SHARE_REQUIRED, Verdict
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.downloads import quality_url
from enertrack.web.services.nodes import NodeNotFound
from enertrack.web.services.quality import WEEKS_OFFERED, NodeQuality, node_quality
from enertrack.web.ui import fmt
from enertrack.web.ui.user import user_id, user_lang, user_timezone

NODE_STORE = "node-below"  # the node id, written by the browser once the card comes into view (pages/node.py)
WEEK = "node-quality-week"
BODY = "node-quality-body"
DOWNLOAD = "node-quality-download"
EVENTS_SHOWN = 10
KINDS = {"dip": N_("dip"), "swell": N_("swell")}
VERDICTS = {
    Verdict.WITHIN: (N_("Within the limits"), "success"),
    Verdict.OUTSIDE: (N_("Outside the limits"), "danger"),
    Verdict.INSUFFICIENT: (N_("Not enough readings"), "secondary"),
}


def _week_label(offset: int, _: Any) -> str:
    if offset == 0:
        return _("This week")
    return _("Last week") if offset == 1 else _("{n} weeks ago", n=offset)


def card(_: Any) -> dbc.Card:
    """The card's frame (pure: the callback fills it)."""
    return dbc.Card(
        [
            dbc.CardHeader(
                [html.Span(_("Power quality"), className="fw-semibold me-2"),
                 html.Small(_("indicative, in the spirit of EN 50160"), className="text-body-secondary"),
                 html.A([html.I(className="bi bi-download me-1"), _("Download CSV")], id=DOWNLOAD, href=None,
                        className="btn btn-sm btn-outline-secondary ms-auto")],
                class_name="d-flex align-items-center"),
            dbc.CardBody([
                dbc.Select(id=WEEK, value="0", class_name="mb-2 w-auto",
                           options=[{"label": _week_label(k, _), "value": str(k)} for k in range(WEEKS_OFFERED)]),
                html.Div(id=BODY),
                html.Small(_("Indicative: readings a few seconds apart cannot see every dip the standard "
                             "counts. See docs/power-quality.md for how each figure is computed."),
                           className="text-body-secondary"),
            ]),
        ],
        id="node-quality", class_name="shadow-sm mt-4",
    )


def duration(seconds: int, lang: str) -> str:
    """'45 s', '12 min', '3 h 5 min' (SI symbols: the same in every language)."""
    if seconds < 120:
        return f"{decimal(lang, seconds, 0)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{decimal(lang, minutes // 60, 0)} h {minutes % 60} min"


def _percent(value: float | None, lang: str) -> str:
    return decimal(lang, None if value is None else value * 100, 1) + (" %" if value is not None else "")


def _row(label: str, value: str, note: str = "") -> html.Tr:
    return html.Tr([html.Th(label, className="fw-normal"), html.Td(value, className="fw-semibold"),
                    html.Td(note, className="text-body-secondary small")])


def body(item: NodeQuality, tz: str, lang: str) -> html.Div:
    """The figures of one week."""
    _ = translator(lang)
    rep, nominal = item.report, item.nominal
    label, color = VERDICTS[rep.verdict]
    partial = rep.end < item.week_end
    span = f"{fmt.local_time(rep.start, tz, True)[:10]} – {fmt.local_time(item.week_end - 1, tz, True)[:10]}"
    rows = [
        _row(_("Nominal supply"), f"{decimal(lang, nominal.voltage, 0)} V · {decimal(lang, nominal.frequency, 0)} Hz"),
        _row(_("Readings cover"), _percent(rep.coverage, lang), _("of the 10-minute windows")),
        _row(_("Voltage within ±10 %"), _percent(rep.voltage_within, lang),
             _("of the 10-minute means (required: {p} %)", p=decimal(lang, VOLTAGE_SHARE_REQUIRED * 100, 0))),
        _row(_("Every mean within −15 % / +10 %"), _("all within") if rep.voltage_extended_ok else _("not all within")),
        _row(_("Frequency within ±1 %"), _percent(rep.frequency_within, lang),
             _("of the 10-second means (required: {p} %)", p=decimal(lang, FREQUENCY_SHARE_REQUIRED * 100, 1))),
        _row(_("Dips (under 90 %)"), str(rep.count("dip")),
             _("{total} in all, longest {longest}", total=duration(rep.seconds("dip"), lang),
               longest=duration(rep.longest("dip"), lang)) if rep.count("dip") else ""),
        _row(_("Swells (over 110 %)"), str(rep.count("swell")),
             _("{total} in all, longest {longest}", total=duration(rep.seconds("swell"), lang),
               longest=duration(rep.longest("swell"), lang)) if rep.count("swell") else ""),
    ]
    events = [html.Li(f"{fmt.local_time(e.start, tz)} · {_(KINDS[e.kind])} · "
                      f"{duration(e.duration_s, lang)} · {decimal(lang, e.extreme_v, 1)} V")
              for e in rep.events[-EVENTS_SHOWN:]]
    return html.Div([
        html.Div([dbc.Badge(_(label), color=color, class_name="me-2 node-quality-verdict"),
                  html.Small(span + (" · " + _("so far") if partial else ""), className="text-body-secondary")],
                 className="mb-2"),
        dbc.Table(html.Tbody(rows), size="sm", class_name="mb-2 node-quality-table"),
        html.Ul(events, className="small mb-2 node-quality-events") if events else None,
    ])


def register() -> None:
    """Register the card's callback; the node page calls it as Dash executes the page for each app."""
    # Not called as the page opens: NODE_STORE gets the node id when the card comes into view.
    callback(Output(BODY, "children"), Output(DOWNLOAD, "href"), Input(NODE_STORE, "data"),
             Input(WEEK, "value"), prevent_initial_call=True)(show_quality)


def show_quality(node_id: Any, week: Any) -> tuple[Any, str | None]:
    """Fill the card for the user's node and week (nothing about anyone else's)."""
    lang, tz = user_lang(), user_timezone()
    _ = translator(lang)
    app = services()
    try:
        with app.read() as db:
            item = node_quality(db, app.store, user_id(), node_id, week, tz, app.settings.grid, time.time())
    except NodeNotFound:
        return None, None
    except StoreUnavailable:
        return dbc.Alert(_("The readings are not available right now. Try again in a minute."), color="warning"), None
    return body(item, tz, lang), quality_url(item.node_id)
