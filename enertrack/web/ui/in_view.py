"""Sections filled only once they come into view: the browser says when, Dash's callbacks fill them.

Dash has no notion of what is on screen, so a few lines of JavaScript (a clientside callback)
watch the section's box with an IntersectionObserver and, when it comes within MARGIN of the
window, write a value into the stores whose callbacks fill the section. Until then those
callbacks are not called: a page opened to look at what is above does not wait for them.
"""

from __future__ import annotations

import json

from dash import Input, Output, State, clientside_callback

MARGIN = "200px 0px"  # start a little before the box scrolls in, so it is filled as it appears
# Without IntersectionObserver (a very old browser), or when the box is never found, the
# stores are written at once: the section is filled as it was before it waited. So is a box
# holding the URL's anchor (the panel's insight "nodes/<id>#node-quality"): ui/anchor then
# scrolls to it.
_WHEN_SEEN = """
function (value, box) {
    var dc = window.dash_clientside;
    if (typeof value !== 'string') { return dc.no_update; }
    var fill = function () { %(stores)s.forEach(function (id) { dc.set_props(id, {data: value}); }); };
    var watch = function (tries) {
        var el = document.getElementById(box);
        if (!el) { if (tries > 0) { setTimeout(function () { watch(tries - 1); }, 100); } else { fill(); } return; }
        var hash = window.location.hash;
        var anchor = hash ? document.getElementById(decodeURIComponent(hash.slice(1))) : null;
        if (anchor && el.contains(anchor)) { fill(); return; }
        if (!('IntersectionObserver' in window)) { fill(); return; }
        var seen = new IntersectionObserver(function (entries) {
            if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); fill(); }
        }, {rootMargin: %(margin)s});
        seen.observe(el);
    };
    watch(50);
    return dc.no_update;
}
"""


def fill_when_seen(source: str, box: str, stores: list[str]) -> None:
    """When the element `box` comes into view, copy the data of store `source` into `stores`.

    The first of `stores` is also the clientside callback's declared output (Dash needs one).
    """
    code = _WHEN_SEEN % {"stores": json.dumps(stores), "margin": json.dumps(MARGIN)}
    clientside_callback(code, Output(stores[0], "data"), Input(source, "data"), State(box, "id"))
