"""Light and dark colour modes: remembered per browser, defaulting to the OS preference."""

from __future__ import annotations

from dash import Dash, Input, Output, State

from enertrack.web.ui import ids

# Clientside because the theme is the browser's business: no round trip, no flash.
_APPLY = """
function(stored) {
    var dark = stored === "dark" ||
        (stored !== "light" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
    var theme = dark ? "dark" : "light";
    document.documentElement.setAttribute("data-bs-theme", theme);
    return theme;
}
"""

_TOGGLE = """
function(n, shown) {
    if (!n) { return window.dash_clientside.no_update; }
    return shown === "dark" ? "light" : "dark";
}
"""


def register(app: Dash) -> None:
    """The two clientside callbacks: apply the stored theme, toggle it."""
    app.clientside_callback(_APPLY, Output(ids.THEME_RESOLVED, "data"), Input(ids.THEME, "data"))
    app.clientside_callback(
        _TOGGLE,
        Output(ids.THEME, "data"),
        Input(ids.THEME_TOGGLE, "n_clicks"),
        State(ids.THEME_RESOLVED, "data"),
        prevent_initial_call=True,
    )
