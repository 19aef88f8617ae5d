"""The node page's list of messages the ingest daemon rejected."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from enertrack.web.ui import fmt
from enertrack.web.ui.reasons import EXPLANATIONS


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
