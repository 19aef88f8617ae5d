"""The notification bell in the navbar: unread count, and toasts for alerts that arrive while the app is open."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from enertrack.alerts import manage
from enertrack.alerts.messages import headline, local_time
from enertrack.config import URL_PREFIX
from enertrack.web.context import services
from enertrack.web.ui import ids
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import user_id, user_lang, user_timezone

POLL_MS = 15_000  # how often an open page asks for new alerts
TOASTS_MAX = 3  # more new alerts than this in one poll: the newest three, the bell counts the rest


def bell(_: Any) -> html.Div:
    """The bell link to the Alerts page with its badge, and the poll that updates it (logged-in users only)."""
    return html.Div(
        [
            dbc.NavLink(
                [html.I(className="bi bi-bell", title=_("Notifications")),
                 html.Span(_("Notifications"), className="visually-hidden"),
                 dbc.Badge("", id=ids.BELL_COUNT, color="danger", pill=True,
                           class_name="position-absolute top-0 start-100 translate-middle d-none")],
                href=URL_PREFIX + "alerts", id=ids.BELL, class_name="position-relative px-2 me-2",
            ),
            dcc.Interval(id=ids.BELL_TICK, interval=POLL_MS, n_intervals=0),
        ],
        className="d-flex align-items-center",
    )


def _badge(count: int) -> tuple[str, str]:
    hidden = " d-none" if count == 0 else ""
    return ("99+" if count > 99 else str(count)), (
        "position-absolute top-0 start-100 translate-middle" + hidden)


def register(app: Dash) -> None:
    """The bell's poll: count, and a toast per new alert since the newest this tab has seen."""

    @app.callback(
        Output(ids.BELL_COUNT, "children"),
        Output(ids.BELL_COUNT, "class_name"),
        Output(ids.BELL_SEEN, "data"),
        Output(ids.TOASTS, "children", allow_duplicate=True),
        Input(ids.BELL_TICK, "n_intervals"),
        State(ids.BELL_SEEN, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def poll(_ticks: Any, seen: Any) -> tuple[Any, ...]:
        uid = user_id()
        with services().read() as db:
            count = manage.unread_count(db, uid)
            newest = manage.newest_event_id(db, uid)
            fresh = []
            known = seen.get("id") if isinstance(seen, dict) and seen.get("user") == uid else None
            if isinstance(known, int) and newest > known:
                fresh = [e for e, _read in manage.notifications(db, uid, TOASTS_MAX) if e.id > known]
        lang, tz = user_lang(), user_timezone()
        toasts = [toast(f"{local_time(e.ts, tz)}: {headline(e, lang)}",
                        "warning" if e.state == "firing" else "info") for e in reversed(fresh)]
        text, classes = _badge(count)
        return text, classes, {"user": uid, "id": newest}, toasts or no_update
