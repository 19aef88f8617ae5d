"""Toasts: the one way every success and every error is told to the user."""

from __future__ import annotations

from typing import Literal

import dash_bootstrap_components as dbc
from dash import html

Kind = Literal["success", "danger", "warning", "info"]
_ICONS: dict[str, str] = {
    "success": "bi-check-circle-fill",
    "danger": "bi-x-octagon-fill",
    "warning": "bi-exclamation-triangle-fill",
    "info": "bi-info-circle-fill",
}


def toast(message: str, kind: Kind = "success", header: str | None = None) -> dbc.Toast:
    """A self-dismissing toast; errors stay until closed so they can be read."""
    return dbc.Toast(
        html.Span(message, className="toast-message"),
        header=html.Span([html.I(className=f"bi {_ICONS.get(kind, _ICONS['info'])} me-2"), header or ""]),
        header_class_name=f"text-{kind}",
        is_open=True,
        dismissable=True,
        duration=None if kind == "danger" else 6000,
        class_name=f"enertrack-toast toast-{kind} mb-2",
    )
