"""Insights, the bill section, the power-quality card and the Sites page in a real browser.

What only a browser shows: the cards drawn from their callbacks, a card's link opening the
analysis page on its range, and no console errors (no callback refers to a missing component).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from enertrack.cli.simulate import register_nodes
from enertrack.simulation.backfill import backfill
from enertrack.simulation.fleet import make_fleet
from tests.browser.conftest import console_errors, log_in, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser
TZ = "Europe/Madrid"
NODE = "casa-01"


def reached(duo: Any, anchor: str) -> bool:
    """The page scrolled down to the element `anchor`: it is in the top half of the window."""
    return bool(duo.driver.execute_script(
        "var el = document.getElementById(arguments[0]); if (!el) { return false; }"
        "var top = el.getBoundingClientRect().top;"
        "return window.scrollY > 0 && top > -5 && top < window.innerHeight / 2;", anchor))


def test_insight_cards_link_to_their_charts(live: Any) -> None:
    duo = live
    services = duo.flask_app.extensions["enertrack"]
    create_user(duo.flask_app, "ana", timezone=TZ)
    specs = make_fleet(3, [NODE], timezone=TZ)
    register_nodes(services.settings, "ana", specs, 60, services.store)
    now = int(time.time())
    backfill(services.store, specs, 60, now - 35 * 86400, now)
    log_in(duo, "ana", PASSWORD)

    wait(duo, lambda _d: len(duo.driver.find_elements(By.CSS_SELECTOR, ".insight-card")) >= 3, timeout=60)
    base = duo.driver.find_element(By.ID, "insight-base_load")
    assert "Tu consumo base es de" in base.text  # Spanish, the default
    base.find_element(By.CSS_SELECTOR, ".insight-link").click()
    yesterday = (datetime.now(ZoneInfo(TZ)).date() - timedelta(days=1)).isoformat()
    # Dash 4 puts the range's id on its start-date input.
    wait(duo, lambda _d: duo.driver.find_element(By.ID, "analysis-range").get_attribute("value") == yesterday,
         timeout=30)
    assert duo.driver.find_element(By.CSS_SELECTOR, "#analysis-period input[value='hour']").is_selected()
    wait(duo, lambda _d: duo.driver.find_elements(By.ID, "analysis-forecast"), timeout=30)
    wait(duo, lambda _d: duo.driver.find_elements(By.ID, "analysis-unusual-card"), timeout=30)  # its own callback

    # The power-quality insight's link: the node page opens on its card, filled at once (the
    # sections under the charts otherwise wait to be scrolled to: test_node_dashboard).
    duo.driver.get(url(duo, f"nodes/{NODE}#node-quality"))
    wait(duo, lambda _d: duo.driver.find_elements(By.CSS_SELECTOR, "#node-quality .node-quality-verdict"), timeout=30)
    wait(duo, lambda _d: reached(duo, "node-quality"), timeout=10)
    # The forecast insight's anchor on the analysis page: its card is drawn by a later callback.
    duo.driver.get(url(duo, "analysis#analysis-forecast"))
    wait(duo, lambda _d: reached(duo, "analysis-forecast"), timeout=30)

    duo.driver.get(url(duo, "sites"))
    wait(duo, lambda _d: "Principal" in duo.driver.find_element(By.ID, "sites-list").text, timeout=30)
    assert NODE in duo.driver.find_element(By.ID, "sites-list").text
    assert console_errors(duo) == []
