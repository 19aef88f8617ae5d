"""The node page's "Device health" card: what the node says about itself."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from enertrack.numerals import MISSING, decimal
from enertrack.web.services.node_health import HealthView
from enertrack.web.ui import fmt


def uptime(lang: str, seconds: int | None) -> str:
    """'3 d 4 h', '4 h 12 min', '12 min', '45 s': the two largest units."""
    if seconds is None:
        return MISSING
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{decimal(lang, days, 0)} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"


def health_card(view: HealthView | None, tz: str, lang: str, _: Any) -> dbc.Card:
    """The latest values, each with its meaning; a hint when the node never sent any."""
    if view is None:
        body: Any = html.Small(_("This node has not reported its device health yet: firmware that sends fw, rssi, "
                                 "uptime_s, dropped and buffered with its readings shows them here."),
                               className="text-body-secondary")
        footer = None
    else:
        count = lambda value: decimal(lang, value, 0) if value is not None else MISSING  # noqa: E731
        items = [
            (_("Firmware"), view.fw or MISSING),
            (_("Wi-Fi signal"), f"{view.rssi} dBm" if view.rssi is not None else MISSING),
            (_("Uptime"), uptime(lang, view.uptime_s)),
            (_("Readings dropped since boot"), count(view.dropped)),
            (_("Readings waiting in its buffer"), count(view.buffered)),
        ]
        body = html.Dl([part for label, value in items
                        for part in (html.Dt(label, className="col-sm-6 fw-normal text-body-secondary"),
                                     html.Dd(value, className="col-sm-6 mb-1 node-health-value"))],
                       className="row mb-0")
        footer = dbc.CardFooter(html.Small(_("Reported {time}", time=fmt.local_time(view.reported_at, tz)),
                                           className="text-body-secondary"))
    return dbc.Card([dbc.CardHeader([html.I(className="bi bi-heart-pulse me-1"), _("Device health")],
                                    class_name="fw-semibold"),
                     dbc.CardBody(body), *([footer] if footer else [])],
                    class_name="shadow-sm", id="node-health-card")
