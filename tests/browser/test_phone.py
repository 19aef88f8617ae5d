"""On a phone's screen: no page scrolls sideways, the analysis legend is not under the mode bar, "hace 7 s" does not wrap."""

from __future__ import annotations

import time
from typing import Any

import pytest

from enertrack.cli.simulate import register_nodes
from enertrack.simulation.backfill import backfill
from enertrack.simulation.fleet import make_fleet
from tests.browser.conftest import log_in, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser
PHONE = (390, 844)  # CSS pixels of a common phone
NODES = [f"casa-{i:02d}" for i in range(1, 6)]
RECTS = """
var gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullLayout || !gd.data.length) return null;
function box(el) { if (!el) return null; var r = el.getBoundingClientRect();
                   return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }
return {modebar: box(gd.querySelector('.modebar')), legend: box(gd.querySelector('.legend'))};
"""


def seed(duo: Any) -> None:
    """Three days of five simulated nodes of ana's (Spanish)."""
    services = duo.flask_app.extensions["enertrack"]
    create_user(duo.flask_app, "ana", timezone="Europe/Madrid")
    specs = make_fleet(5, NODES, timezone="Europe/Madrid")
    register_nodes(services.settings, "ana", specs, 300, services.store)
    now = int(time.time())
    backfill(services.store, specs, 300, now - 3 * 86400, now)


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_mode_bar_leaves_the_analysis_legend_visible_on_a_phone(live: Any) -> None:
    duo = live
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    duo.driver.set_window_size(*PHONE)
    duo.driver.get(url(duo, "analysis"))
    rects = wait(duo, lambda _d: duo.driver.execute_script(RECTS, "#analysis-chart"), timeout=30)
    assert rects["modebar"] and rects["legend"], rects
    assert not overlap(rects["modebar"], rects["legend"]), rects


AGE = """
var box = document.querySelector('#node-stats-power .node-stat-when-now');
if (!box) return null;
var age = box.querySelector('.node-stat-age').getBoundingClientRect(), all = box.getBoundingClientRect();
var line = parseFloat(getComputedStyle(box).lineHeight);
return {height: all.height, line: line, ageRight: age.right, boxRight: all.right, text: box.textContent};
"""


@pytest.mark.parametrize("size", [PHONE, (1280, 1000)])
def test_the_age_of_the_current_value_stays_on_one_line(live: Any, size: tuple[int, int]) -> None:
    duo = live
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    duo.driver.set_window_size(*size)
    duo.driver.get(url(duo, "nodes/casa-01"))
    shown = wait(duo, lambda _d: duo.driver.execute_script(AGE), timeout=30)
    assert "hace" in shown["text"], shown
    assert shown["height"] <= 1.5 * shown["line"], shown  # one line
    assert shown["ageRight"] <= shown["boxRight"] + 0.5, shown  # "hace 7 s" whole, the time cut if need be


SIDEWAYS = """
var width = document.documentElement.clientWidth;
var wide = [...document.querySelectorAll('body *')].filter(
  e => e.getBoundingClientRect().right > width + 0.5 && !e.closest('.table-responsive'));  // tables scroll in their box
return {scroll: document.documentElement.scrollWidth, width: width,
        wide: wide.slice(0, 3).map(e => e.tagName + '#' + e.id + '.' + e.className)};
"""
# Each page, and the element that shows it has drawn its content.
PAGES = {"": "#panel-nodes-body tr", "nodes/casa-01": "#node-chart-power .js-plotly-plot",
         "analysis": "#analysis-chart .js-plotly-plot", "nodes": "#nodes-list", "alerts": "#alerts-page, h1",
         "sites": "h1", "profile": "h1"}


def test_no_page_scrolls_sideways_on_a_phone(live: Any) -> None:
    duo = live
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    duo.driver.set_window_size(*PHONE)
    for path, ready in PAGES.items():
        duo.driver.get(url(duo, path))
        duo.wait_for_element(ready, timeout=30)
        time.sleep(0.5)  # the callbacks that fill the page's controls
        shown = duo.driver.execute_script(SIDEWAYS)
        assert shown["scroll"] <= shown["width"] and not shown["wide"], (path, shown)
