"""The node page draws only the charts in view; the others are drawn, with their data, when scrolled to."""

from __future__ import annotations

from typing import Any

import pytest

from enertrack.core.magnitudes import NAMES
from tests.browser.conftest import console_errors, log_in, scroll_to, url, wait
from tests.browser.test_network import seed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Where a chart is, what it has drawn, and whether that is exactly the figure the page received.
CHART_JS = """
var name = arguments[0], graph = document.getElementById('node-chart-' + name);
var gd = document.querySelector('#node-chart-' + name + ' .js-plotly-plot');
if (!graph || !window.store) { return {inView: false, points: 0, received: 0, same: false, paper: null}; }
var box = graph.getBoundingClientRect(), state = window.store.getState(), node = state.layout;
(state.paths.strs['node-figure-' + name] || []).forEach(function (key) { node = node[key]; });
var figure = node && node.props ? node.props.data : null;
var traces = function (data) { return JSON.stringify((data || []).map(function (t) { return [t.x, t.y]; })); };
var points = gd && gd._fullData ? gd._fullData.reduce(function (n, t) { return n + (t.y ? t.y.length : 0); }, 0) : 0;
return {inView: box.bottom > 0 && box.top < window.innerHeight, points: points,
        received: figure && figure.data ? figure.data.reduce(function (n, t) { return n + t.y.length; }, 0) : 0,
        same: !!(figure && gd && traces(gd.data) === traces(figure.data)),
        paper: gd && gd.layout.template ? gd.layout.template.layout.paper_bgcolor : null,
        margins: gd && gd._fullLayout ? [gd._fullLayout._size.l, gd._fullLayout._size.b] : null,
        given: gd && gd.layout.margin ? [gd.layout.margin.l, gd.layout.margin.b] : null};
"""


def chart(duo: Any, name: str) -> dict[str, Any]:
    return duo.driver.execute_script(CHART_JS, name)


def test_charts_below_the_fold_wait_until_scrolled_to(live: Any) -> None:
    duo = live  # 1280 x 1000: two charts a row, the last row below the fold
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    duo.driver.get(url(duo, "nodes/casa-01"))
    first, last = NAMES[0], NAMES[-1]
    wait(duo, lambda _d: chart(duo, first)["points"] > 3000 and chart(duo, last)["received"] > 3000, timeout=30)
    shown = chart(duo, first)
    assert shown["inView"] and shown["same"]
    for name in NAMES[:4]:  # the labels fit the margins given: no second layout pass to grow them
        wait(duo, lambda _d, n=name: chart(duo, n)["points"] > 3000)
        assert chart(duo, name)["margins"] == chart(duo, name)["given"], name
    below = chart(duo, last)
    assert not below["inView"]
    assert below["points"] == 0, "a chart out of view was drawn as the page opened"

    # A theme switch while it waits: it is drawn dark when it comes into view.
    duo.find_element("#theme-toggle").click()
    wait(duo, lambda _d: chart(duo, first)["paper"] == "rgb(17,17,17)")
    assert chart(duo, last)["points"] == 0

    scroll_to(duo, f"node-chart-{last}")
    wait(duo, lambda _d: chart(duo, last)["points"] > 3000)
    drawn = chart(duo, last)
    assert drawn["inView"] and drawn["same"] and drawn["points"] == drawn["received"]
    assert drawn["paper"] == "rgb(17,17,17)"

    assert console_errors(duo) == []
