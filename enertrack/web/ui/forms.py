"""Form building blocks: labelled fields with help and error text, CSRF input, query-string errors."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from enertrack.validation import MESSAGES
from enertrack.web.ui import ids


def csrf_input(form: str) -> dcc.Input:
    """Hidden csrf_token input, filled by the session's CSRF callback."""
    return dcc.Input(type="hidden", name="csrf_token", id={"type": ids.CSRF, "form": form}, value="")


def hidden(name: str, value: str) -> dcc.Input:
    """A hidden form value."""
    return dcc.Input(type="hidden", name=name, value=value)


def field(label: str, control: Any, *, help_text: str | None = None,
          error: str | None = None, feedback_id: str | None = None) -> html.Div:
    """A label, a control, optional help and an invalid-feedback message."""
    control_id = getattr(control, "id", None)
    parts: list[Any] = [dbc.Label(label, html_for=control_id if isinstance(control_id, str) else None), control]
    feedback_kwargs = {"id": feedback_id} if feedback_id else {}
    parts.append(dbc.FormFeedback(error or "", type="invalid", **feedback_kwargs))
    if help_text:
        parts.append(dbc.FormText(help_text))
    return html.Div(parts, className="mb-3")


def parse_errors(raw: Any) -> dict[str, str]:
    """'field:code,field:code' from a query string -> {field: code}, known codes only."""
    if not isinstance(raw, str):
        return {}
    errors: dict[str, str] = {}
    for item in raw.split(",")[:10]:
        name, _, code = item.partition(":")
        if code in MESSAGES and name.isidentifier():
            errors[name] = code
    return errors


def text_param(value: Any, limit: int) -> str:
    """An untrusted query-string value as a bounded string."""
    return value[:limit] if isinstance(value, str) else ""


def date_range(component_id: str, _: Any) -> dcc.DatePickerRange:
    """A local-date range picker (ISO dates, weeks from Monday, both days included) with translated placeholders."""
    return dcc.DatePickerRange(id=component_id, display_format="YYYY-MM-DD", first_day_of_week=1,
                               minimum_nights=0, clearable=False,
                               start_date_placeholder_text=_("Start date"), end_date_placeholder_text=_("End date"))
