"""A node dashboard in a real browser, on the demo's simulated data: charts, ranges, live numbers, dark mode."""

from __future__ import annotations

import time
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from enertrack.cli.simulate import register_nodes
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.i18n import tr
from enertrack.simulation.backfill import backfill
from enertrack.simulation.fleet import make_fleet
from tests.browser.conftest import console_errors, log_in, luminance, scroll_to, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser
STEP = 60


def plot(duo: Any, name: str, expression: str) -> Any:
    """Evaluate a JS expression on the plotly graph div of a magnitude's chart (`gd`); `x(i)` is trace
    i's x as plotly decoded it (a fixed range sends a typed array, which gd.data keeps encoded)."""
    return duo.driver.execute_script(
        f"var gd = document.querySelector('#node-chart-{name} .js-plotly-plot');"
        " var x = function (i) { return gd._fullData && gd._fullData[i] ? gd._fullData[i].x : gd.data[i].x; };"
        f" return gd ? ({expression}) : null;")


def choose(duo: Any, preset: str) -> None:
    """Click a range preset's button (by value: the labels are translated)."""
    duo.driver.find_element(By.CSS_SELECTOR, f"#node-preset label[for$='_input_{preset}']").click()


def mean_step(duo: Any, name: str) -> Any:
    """Seconds between the first two points of the mean line."""
    return plot(duo, name, "x(2).length > 1 ? (new Date(x(2)[1]) - new Date(x(2)[0])) / 1000 : null")


def store_data(duo: Any, ident: str) -> Any:
    """The data of a dcc.Store as the page holds it (read from Dash's redux store)."""
    return duo.driver.execute_script("""
        var state = window.store.getState(), node = state.layout;
        (state.paths.strs[arguments[0]] || []).forEach(function (key) { node = node[key]; });
        return node && node.props ? node.props.data : undefined;
    """, ident)


def counting(callback: Any, key: str, calls: list[str]) -> Any:
    """A Dash callback that notes `key` in calls each time the browser calls it."""
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(key)
        return callback(*args, **kwargs)
    return counted


def seed(duo: Any) -> str:
    """Eight days of the demo's own simulated readings for one node; its newest voltage as the page shows it."""
    app = duo.flask_app
    services = app.extensions["enertrack"]
    create_user(app, "ana", timezone="Europe/Madrid")  # Spanish, the default
    specs = make_fleet(11, ["casa-01"], timezone="Europe/Madrid")
    register_nodes(services.settings, "ana", specs, STEP, services.store)
    now = int(time.time())
    backfill(services.store, specs, STEP, now - 8 * 86400, now)
    newest = services.store.latest(["casa-01"])["casa-01"]
    return f"{newest.voltage:.1f} V".replace(".", ",")  # Spanish decimals


def test_node_dashboard_in_a_browser(live: Any) -> None:
    duo = live
    now_voltage = seed(duo)
    log_in(duo, "ana", PASSWORD)

    # The server-side calls of the four sections under the charts, counted.
    callbacks = duo.flask_app.extensions["dash_app"].callback_map
    below = [key for key in callbacks if key.lstrip(".").startswith(
        ("node-health.children", "node-rejections.children", "node-quality-body.children", "connect-body.children."))]
    assert len(below) == 4, below
    calls: list[str] = []
    for key in below:
        callbacks[key]["callback"] = counting(callbacks[key]["callback"], key, calls)

    duo.driver.get(url(duo, "nodes/casa-01"))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-title"), "casa-01"))
    for name in NAMES:  # six charts, each with its band and mean line drawn
        wait(duo, lambda _d, n=name: plot(duo, n, "gd.data.length === 3 && x(2).length > 1000"))
        assert duo.driver.find_elements(By.CSS_SELECTOR, f"#node-chart-{name} .main-svg")
        # The labels fit the margins given: Plotly needs no second layout pass to grow them.
        assert plot(duo, name, "[gd._fullLayout._size.l, gd._fullLayout._size.b]") == \
            plot(duo, name, "[gd.layout.margin.l, gd.layout.margin.b]"), name
    assert mean_step(duo, "power") == 60  # 24 h: one-minute buckets
    # Plotly speaks Spanish too (its locale is served from assets/vendor): the modebar's tips.
    assert plot(duo, "power", "!!gd.querySelector('.modebar-btn[data-title=\"Autoescalar\"]')")
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-stats-voltage"), now_voltage))

    # The sections under the charts are out of the window (1280x1000): not asked for, until the
    # page scrolls down to them; then each is filled.
    time.sleep(1)
    assert calls == []  # not one request for them yet
    scroll_to(duo, "#node-quality")
    wait(duo, lambda _d: duo.driver.find_elements(By.CSS_SELECTOR, "#node-quality .node-quality-verdict"), timeout=30)
    wait(duo, lambda _d: duo.driver.find_elements(By.CSS_SELECTOR, "#node-health .card"), timeout=30)
    wait(duo, lambda _d: "casa-01/telemetry" in duo.find_element("#connect-body").text, timeout=30)
    assert sorted(calls) == sorted(below)  # each asked for once, when it came into view
    duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'});")  # Bootstrap scrolls smoothly

    # Another range: seven days in 15-minute buckets.
    choose(duo, "7d")
    wait(duo, lambda _d: mean_step(duo, "power") == 900)
    href = duo.find_element("#node-download").get_attribute("href")
    assert "/enertrack/nodes/casa-01/readings.csv?start=" in href and "end=" in href

    # Custom range: a bad one is explained, charts stay.
    choose(duo, "custom")
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-message"), tr("es", "Choose a start and an end date.")))
    assert duo.find_element("#node-dates").is_displayed()

    # Live: the hour view ticks; a new reading shows up in the numbers, then in the chart.
    choose(duo, "1h")
    wait(duo, lambda _d: plot(duo, "voltage", "gd.data[2].x.length") in range(55, 62))
    now = int(time.time())
    duo.flask_app.extensions["enertrack"].store.write([Reading("casa-01", now, voltage=239.9, power=1234.0)])
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-stats-voltage"), "239,9 V"), timeout=20)
    wait(duo, lambda _d: plot(duo, "voltage", "gd.data[0].y.includes(239.9)"), timeout=30)

    # A tick answered after a redraw for another range must not touch the new charts: replay the
    # last applied answer of the 1 h view once the 7 d view is drawn.
    late = store_data(duo, "node-live")
    assert late and late["generation"] == store_data(duo, "node-state")["generation"]
    choose(duo, "7d")
    wait(duo, lambda _d: mean_step(duo, "power") == 900)
    before = plot(duo, "voltage", "[x(2).length, x(2)[x(2).length - 1]]")
    href = duo.find_element("#node-download").get_attribute("href")
    duo.driver.execute_script("window.dash_clientside.set_props('node-live', {data: arguments[0]});", late)
    wait(duo, lambda _d: store_data(duo, "node-live") == late)  # delivered to the page
    time.sleep(1)  # what the gate lets through is applied in the same turn; give it ample time
    assert plot(duo, "voltage", "[x(2).length, x(2)[x(2).length - 1]]") == before
    assert mean_step(duo, "power") == 900 and store_data(duo, "node-state") is None
    assert duo.find_element("#node-download").get_attribute("href") == href and "end=" in href

    # Dark mode: chart backgrounds are transparent over Bootstrap's dark body, text is light.
    def chart_colors() -> dict[str, str]:
        return duo.driver.execute_script("""
            var card = document.querySelector('#node-chart-power').closest('.card');
            var svg = document.querySelector('#node-chart-power .main-svg');
            var tick = document.querySelector('#node-chart-power .ytick text');
            return {card: getComputedStyle(card).backgroundColor, svg: svg.style.background,
                    tick: tick ? tick.style.fill : ''};
        """)

    light = chart_colors()
    duo.find_element("#theme-toggle").click()
    wait(duo, lambda _d: plot(duo, "power", "gd.layout.template.layout.paper_bgcolor") == "rgb(17,17,17)")
    dark = chart_colors()
    assert dark["svg"] in ("rgba(0, 0, 0, 0)", "transparent")
    assert dark["card"] != light["card"] and luminance(dark["card"]) < 0.2 < luminance(light["card"])
    assert luminance(dark["tick"]) > 0.6 > luminance(light["tick"])

    assert console_errors(duo) == []

