"""Panel and analysis in a real browser, on history written by the simulator's backfill.

What only a browser shows: the cards and statuses drawn, numbers set in place by a live
tick, bars redrawn per granularity, a CSV that really lands on disk, dark charts, and no
console errors on the way.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from enertrack.cli.simulate import register_nodes
from enertrack.core.calendar import boundaries, today
from enertrack.core.magnitudes import BY_NAME
from enertrack.core.reading import Reading
from enertrack.i18n import tr
from enertrack.simulation.backfill import backfill
from enertrack.simulation.fleet import make_fleet
from enertrack.web.services.analysis import EXPORT_HEADER, default_range
from enertrack.web.services.panel import KPI_NAMES
from tests.browser.conftest import console_errors, log_in, luminance, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser
TZ = "Europe/Madrid"
STEP = 60
DAYS = 3
ACTIVE, DISCONNECTED, SILENT = "casa-01", "taller-02", "nuevo-03"
KPIS = (*KPI_NAMES, "total_power", "energy_today")


def seed(duo: Any) -> None:
    """Three nodes of one user: one reporting until now, one silent for 6 hours, one never heard of."""
    app = duo.flask_app
    services = app.extensions["enertrack"]
    create_user(app, "ana", timezone=TZ)
    specs = make_fleet(7, [ACTIVE, DISCONNECTED, SILENT], timezone=TZ)
    register_nodes(services.settings, "ana", specs, STEP, services.store)
    now = int(time.time())
    backfill(services.store, specs[:1], STEP, now - DAYS * 86400, now)
    backfill(services.store, specs[1:2], STEP, now - DAYS * 86400, now - 6 * 3600)


def card(duo: Any, name: str) -> Any:
    """The KPI card of `name` (its id is a pattern-matching dict, rendered as JSON)."""
    return duo.driver.find_element(By.CSS_SELECTOR, f"[id*='\"name\":\"{name}\"'] .kpi-value")


def row(duo: Any, node: str) -> Any:
    """A node's row in the panel's table."""
    return duo.driver.find_element(By.CSS_SELECTOR, f"tr[id*='\"node\":\"{node}\"']")


def status(duo: Any, node: str) -> str:
    """The status badge's class of a node's row."""
    return row(duo, node).find_element(By.CSS_SELECTOR, ".node-status").get_attribute("class")


def attached(element: Any) -> bool:
    """False once the element was removed from the page (what a redraw does)."""
    try:
        element.is_displayed()
    except StaleElementReferenceException:
        return False
    return True


def test_panel_shows_kpis_and_statuses_and_ticks_in_place(live: Any) -> None:
    duo = live
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    wait(duo, lambda _d: len(duo.driver.find_elements(By.CSS_SELECTOR, ".kpi-card")) == len(KPIS))
    for name in KPIS:  # the simulated node carries every magnitude: no card is empty
        wait(duo, lambda _d, n=name: card(duo, n).text not in ("", "—"))
    labels = [e.get_attribute("textContent") for e in duo.driver.find_elements(By.CSS_SELECTOR, ".kpi-card .kpi-label")]
    assert labels == [*(tr("es", BY_NAME[n].label) for n in KPI_NAMES), tr("es", "Total power now"),
                      tr("es", "Energy today")]  # Spanish, the default
    assert card(duo, "voltage").text.replace(",", "", 1).isdigit()  # Spanish: a decimal comma
    assert "node-status-active" in status(duo, ACTIVE)
    assert "node-status-disconnected" in status(duo, DISCONNECTED)
    assert "node-status-no_data" in status(duo, SILENT)
    for node, label in ((ACTIVE, "Active"), (DISCONNECTED, "Disconnected"), (SILENT, "No data")):
        badge = row(duo, node).find_element(By.CSS_SELECTOR, ".node-status")
        assert badge.text == tr("es", label)  # readable: light text on the badge's colour
        assert luminance(badge.value_of_css_property("color")) - luminance(
            badge.value_of_css_property("background-color")) > 0.4

    # A new reading: the next tick sets the numbers in place; cards and rows stay the same elements.
    cards = duo.driver.find_elements(By.CSS_SELECTOR, ".kpi-card")
    unchanged = card(duo, "frequency")
    rows = [row(duo, node) for node in (ACTIVE, DISCONNECTED, SILENT)]
    services = duo.flask_app.extensions["enertrack"]
    services.store.write([Reading(ACTIVE, int(time.time()), voltage=230.0, current=18.8, power=4321.0,
                                  power_factor=0.97, frequency=float(unchanged.text.replace(",", ".")))])
    wait(duo, lambda _d: card(duo, "power").text == "4.321", timeout=30)  # ticks every 5 s; Spanish groups thousands with '.'
    assert card(duo, "total_power").text == "4.321" and card(duo, "current").text == "18,80"
    assert attached(unchanged) and unchanged.text == card(duo, "frequency").text
    assert "4.321 W" in rows[0].text  # the active node's row, updated where it stands
    assert all(attached(r) for r in rows) and all(attached(c) for c in cards)
    assert console_errors(duo) == []


def bars(duo: Any) -> dict[str, Any]:
    """The analysis chart as drawn: x of the bars, the total line's values, its background."""
    return duo.driver.execute_script("""
        var gd = document.querySelector('#analysis-chart .js-plotly-plot');
        if (!gd || !gd.data || !gd.data.length) { return null; }
        var total = gd.data[gd.data.length - 1];
        return {x: Array.from(gd.data[0].x), total: Array.from(total.y),
                nodes: gd.data.filter(t => t.type === 'bar').map(t => t.name),
                paper: gd.layout.template.layout.paper_bgcolor,
                tick: (document.querySelector('#analysis-chart .ytick text') || {style: {}}).style.fill};
    """)


def choose(duo: Any, period: str) -> None:
    """Click a granularity's button (by value: the labels are translated)."""
    duo.driver.find_element(By.CSS_SELECTOR, f"#analysis-period label[for$='_input_{period}']").click()


def periods(period: str) -> int:
    """How many bars the page's default range of `period` has today."""
    first, last = default_range(period, today(TZ))
    return len(boundaries(first, last, period, TZ)) - 1


def test_analysis_granularities_csv_and_dark_chart(live: Any, tmp_path: Path) -> None:
    duo = live
    seed(duo)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    log_in(duo, "ana", PASSWORD)
    duo.driver.get(url(duo, "analysis"))

    drawn: dict[str, dict[str, Any]] = {}
    for period in ("day", "hour", "month", "year"):  # "day" is what the page opens with
        if period != "day":
            choose(duo, period)
        wait(duo, lambda _d, p=period: (bars(duo) or {}).get("x") and len(bars(duo)["x"]) == periods(p))
        drawn[period] = bars(duo)
        assert drawn[period]["nodes"] == sorted([ACTIVE, DISCONNECTED, SILENT])  # by node id
    assert len({tuple(d["x"]) for d in drawn.values()}) == 4  # four different sets of bars
    total = sum(drawn["day"]["total"])
    assert total > 0 and sum(drawn["year"]["total"]) == pytest.approx(total)  # both hold the 3 days
    assert 0 < sum(drawn["hour"]["total"]) <= total + 1e-9  # today only
    assert drawn["hour"]["x"][0].startswith(today(TZ).isoformat())

    # The CSV of what is shown (the year view): one row per node and period.
    duo.find_element("#analysis-download-button").click()
    first, last = default_range("year", today(TZ))
    target = downloads / f"enertrack-year-{first}-{last - timedelta(days=1)}.csv"  # named by the days shown
    wait(duo, lambda _d: target.exists() and target.read_text().count("\n") == 1 + 3 * periods("year"))
    lines = target.read_text().splitlines()
    assert lines[0] == ",".join(EXPORT_HEADER) == "period_start,node_id,energy_kwh"
    rows = [line.split(",") for line in lines[1:]]
    assert [node for _start, node, _kwh in rows[:3]] == sorted([ACTIVE, DISCONNECTED, SILENT])
    assert rows[0][0] == f"{first.isoformat()}T00:00:00+01:00"  # local midnight, Madrid's winter offset
    kwh = {node: sum(float(value) for _start, n, value in rows if n == node) for node in (ACTIVE, DISCONNECTED, SILENT)}
    assert kwh[SILENT] == 0.0 and kwh[ACTIVE] > 0 and kwh[DISCONNECTED] > 0
    assert sum(kwh.values()) == pytest.approx(total, abs=0.01)

    # Dark mode: the chart is redrawn dark, its text light.
    light = drawn["year"]
    duo.find_element("#theme-toggle").click()
    wait(duo, lambda _d: bars(duo)["paper"] == "rgb(17,17,17)")
    wait(duo, lambda _d: luminance(bars(duo)["tick"] or "rgb(0,0,0)") > 0.6)
    assert luminance(light["tick"]) < 0.4 and light["paper"] == "white"
    assert console_errors(duo) == []

