"""The analysis page's unusual days: each flagged day of the shown range against its usual weekday.

Its own callback reads the page's controls; pages/analysis.py places section() and calls register().
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from enertrack.core.calendar import today
from enertrack.core.unusual import HIGH_RATIO, LOW_RATIO, MIN_DIFFERENCE_KWH, DayCheck
from enertrack.i18n import translator
from enertrack.numerals import decimal
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.services.analysis import parse_request
from enertrack.web.services.consumption import UNUSUAL_MAX_DAYS, unusual_in_range
from enertrack.web.services.insights import analysis_url
from enertrack.web.services.sites import SiteNotFound
from enertrack.web.ui import fmt
from enertrack.web.ui.bill import CONTROLS, selected_nodes
from enertrack.web.ui.insights import WEEKDAYS
from enertrack.web.ui.user import user_id, user_lang, user_timezone

SECTION = "analysis-unusual"


def section(_: Any) -> html.Div:
    """The section's frame (pure: the callback fills it)."""
    return html.Div(id=SECTION, className="mt-3")


def _kwh(lang: str, value: float | None) -> str:
    return f"{fmt.energy(lang, value)} kWh"


def _row(check: DayCheck, so_far: bool, lang: str) -> html.Tr:
    _ = translator(lang)
    label = f"{check.day.isoformat()} ({_(WEEKDAYS[check.day.weekday()])})"
    if so_far:
        label += " · " + _("so far")
    change = None if check.ratio is None else check.ratio - 1
    return html.Tr([
        html.Td(dcc.Link(label, href=analysis_url("hour", check.day, check.day), className="unusual-day-link")),
        html.Td(_kwh(lang, check.kwh), className="text-end"),
        html.Td(_kwh(lang, check.usual_kwh), className="text-end"),
        html.Td(fmt.percent(lang, change, signed=True), className="text-end"),
        html.Td(html.I(className="bi bi-arrow-up" if check.unusual == "high" else "bi bi-arrow-down",
                       title=_("More than usual") if check.unusual == "high" else _("Less than usual"))),
    ], id=f"unusual-{check.day.isoformat()}")


def view(flagged: list[DayCheck] | None, local_today: date, lang: str) -> dbc.Card:
    """The card: a table of flagged days, or why there is none."""
    _ = translator(lang)
    if flagged is None:
        body: Any = html.Small(_("Unusual days are looked for in ranges of up to {days} days: choose a shorter range.",
                                 days=UNUSUAL_MAX_DAYS), className="text-body-secondary")
    elif not flagged:
        body = html.Small(_("No unusual day in this range."), className="text-body-secondary")
    else:
        head = html.Thead(html.Tr([html.Th(_("Day")), html.Th(_("Energy"), className="text-end"),
                                   html.Th(_("Usual (median)"), className="text-end"),
                                   html.Th(_("Difference"), className="text-end"), html.Th("")]))
        body = dbc.Table([head, html.Tbody([_row(c, c.day == local_today, lang) for c in flagged])],
                         size="sm", hover=True, responsive=True, class_name="mb-0")
    high, low = (decimal(lang, ratio * 100, 0) + " %" for ratio in (HIGH_RATIO, LOW_RATIO))
    rule = _("Each day against the median of the same weekday in the four weeks before: flagged above {high} or "
             "under {low} of it, and at least {kwh} away. Today is compared up to this time.",
             high=high, low=low, kwh=_kwh(lang, MIN_DIFFERENCE_KWH))
    return dbc.Card([
        dbc.CardHeader(_("Unusual days"), class_name="fw-semibold"),
        dbc.CardBody([body, html.Small(rule, className="text-body-secondary d-block mt-2")]),
    ], class_name="shadow-sm", id="analysis-unusual-card")


def show_unusual(period: Any, start: Any, end: Any, site: Any, requested: Any) -> Any:
    """Fill the section for the user's chosen site, nodes and range."""
    lang, tz, now = user_lang(), user_timezone(), time.time()
    request = parse_request(period, start, end)
    if isinstance(request, str):
        return None  # the chart's own message says what is wrong
    app = services()
    try:
        with app.read() as db:
            node_ids = selected_nodes(db, user_id(), site, requested)
        flagged = unusual_in_range(app.store, node_ids, request.start, request.end, tz, now)
    except SiteNotFound:
        return None
    except StoreUnavailable:
        return None  # the chart's own message says so
    return view(flagged, today(tz, now), lang)


def register() -> None:
    """Register the section's callback with the app that executes the analysis page."""
    callback(Output(SECTION, "children"), Input(CONTROLS[0], "value"), Input(CONTROLS[1], "start_date"),
             Input(CONTROLS[1], "end_date"), Input(CONTROLS[2], "value"), Input(CONTROLS[3], "value"))(show_unusual)
