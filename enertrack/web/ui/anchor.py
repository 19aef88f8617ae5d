"""Links to an anchor (#id) land on it: Dash draws a page after the browser's own jump to the anchor.

The browser looks for the URL's #id once, while the document loads, before Dash has rendered
the page (and a dcc.Link changes pages without a load at all), so it never finds it. Each time
the pages router renders a page, a clientside callback waits up to WAIT_MS for that element to
be shown (it may be filled by a later callback), scrolls to it, and keeps it there for HOLD_MS
while the rest of the page fills in, unless the visitor scrolls. Dash cannot scroll, hence
the few lines of JavaScript.
"""

from __future__ import annotations

from dash import Dash, Input, Output

from enertrack.web.ui import ids

WAIT_MS = 10_000
HOLD_MS = 3_000  # then kept on the anchor while the rest of the page fills in
_REACH = """
function (_content) {
    var dc = window.dash_clientside;
    var hash = window.location.hash;
    window.clearTimeout(window.__enertrackAnchor);
    if (!hash) { return dc.no_update; }
    var left = %(tries)d;
    var hold = function (el, placed, more) {
        // What loads above or below the element for a moment yet can leave it off the top (a page
        // too short to scroll that far): put it back, unless the visitor has scrolled since.
        if (more <= 0 || window.scrollY !== placed) { return; }
        if (Math.abs(el.getBoundingClientRect().top) > 4) { el.scrollIntoView({block: 'start'}); }
        window.__enertrackAnchor = window.setTimeout(function () { hold(el, window.scrollY, more - 1); }, 100);
    };
    var look = function () {
        var el = document.getElementById(decodeURIComponent(hash.slice(1)));
        if (el && el.offsetParent !== null) {
            el.scrollIntoView({block: 'start'});
            window.__enertrackAnchor = window.setTimeout(function () { hold(el, window.scrollY, %(hold)d); }, 100);
            return;
        }
        if (left-- > 0) { window.__enertrackAnchor = window.setTimeout(look, 100); }
    };
    look();
    return dc.no_update;
}
"""


def register(app: Dash) -> None:
    """Scroll to the URL's anchor once the page that holds it has drawn it."""
    app.clientside_callback(_REACH % {"tries": WAIT_MS // 100, "hold": HOLD_MS // 100}, Output(ids.ANCHOR, "data"),
                            Input("_pages_content", "children"))
