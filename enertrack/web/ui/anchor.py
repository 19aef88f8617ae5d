"""Links to an anchor (#id) land on it: Dash draws a page after the browser's own jump to the anchor.

The browser looks for the URL's #id once, while the document loads, before Dash has rendered
the page (and a dcc.Link changes pages without a load at all), so it never finds it. Each time
the pages router renders a page, a clientside callback waits up to WAIT_MS for that element to
be shown (it may be filled by a later callback) and scrolls to it. Dash cannot scroll, hence
the few lines of JavaScript.
"""

from __future__ import annotations

from dash import Dash, Input, Output

from enertrack.web.ui import ids

WAIT_MS = 10_000
_REACH = """
function (_content) {
    var dc = window.dash_clientside;
    var hash = window.location.hash;
    window.clearTimeout(window.__enertrackAnchor);
    if (!hash) { return dc.no_update; }
    var left = %(tries)d;
    var look = function () {
        var el = document.getElementById(decodeURIComponent(hash.slice(1)));
        if (el && el.offsetParent !== null) { el.scrollIntoView({block: 'start'}); return; }
        if (left-- > 0) { window.__enertrackAnchor = window.setTimeout(look, 100); }
    };
    look();
    return dc.no_update;
}
"""


def register(app: Dash) -> None:
    """Scroll to the URL's anchor once the page that holds it has drawn it."""
    app.clientside_callback(_REACH % {"tries": WAIT_MS // 100}, Output(ids.ANCHOR, "data"),
                            Input("_pages_content", "children"))
