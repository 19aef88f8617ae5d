"""Every page works under the Content-Security-Policy, with no violation in the console (real Chromium)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.web.services import nodes
from tests.browser.conftest import log_in, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser

# Each page, and something on it only its callbacks draw (so Dash's scripts really ran).
PAGES = [
    ("", (By.ID, "panel-kpi-voltage"), "230"),
    ("nodes", (By.ID, "nodes-table"), "casa-01"),
    ("nodes/casa-01", (By.ID, "node-title"), "casa-01"),
    ("analysis", (By.ID, "analysis-total"), "kWh"),
    ("profile", (By.ID, "profile-username"), "ana"),
]


def violations(duo: Any) -> list[str]:
    """Console messages about the Content-Security-Policy since the last call."""
    return [entry["message"] for entry in duo.get_logs() or []
            if "Content Security Policy" in entry.get("message", "") or "Refused to" in entry.get("message", "")]


def seed(duo: Any) -> None:
    app = duo.flask_app
    services = app.extensions["enertrack"]
    uid = create_user(app, "ana", language="en", timezone="UTC")
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "casa-01", "interval_s": 60})
    now = int(time.time()) // 60 * 60
    services.store.write([Reading("casa-01", now - 60 * i, voltage=230.0, current=1.0, power=230.0,
                                  energy=100 - i / 60, power_factor=1.0, frequency=50.0) for i in range(180)],
                         {"casa-01": EnergyParams(60)})


def test_every_page_works_under_the_csp_without_violations(live: Any) -> None:
    duo = live
    seed(duo)
    duo.driver.get(url(duo, "login"))
    duo.wait_for_element("#login-username")
    assert duo.driver.execute_script("return document.documentElement.getAttribute('data-bs-theme')")  # inline theme
    log_in(duo, "ana", PASSWORD)
    assert violations(duo) == []
    for path, locator, text in PAGES:
        duo.driver.get(url(duo, path))
        wait(duo, EC.text_to_be_present_in_element(locator, text))
        assert violations(duo) == [], path
    duo.driver.get(url(duo, "register"))
    duo.wait_for_element("#register-username")
    assert violations(duo) == []


def test_the_csp_blocks_an_injected_script_and_says_so(live: Any) -> None:
    duo = live
    duo.driver.get(url(duo, "login"))
    duo.wait_for_element("#login-username")
    duo.get_logs()
    ran = duo.driver.execute_script("""
        var s = document.createElement('script'); s.textContent = 'window.__injected = 1';
        document.head.appendChild(s); return window.__injected === 1;""")
    assert ran is False
    wait(duo, lambda _d: violations(duo) or None, timeout=5)


def test_logout_in_the_browser_ends_the_session_server_side(live: Any) -> None:
    duo = live
    create_user(duo.flask_app, "ana", language="en")
    log_in(duo, "ana", PASSWORD)
    session = duo.driver.get_cookie("enertrack_session")
    assert session is not None
    duo.find_element("#user-menu").click()
    duo.wait_for_element("#logout-button").click()
    wait(duo, EC.url_contains("/enertrack/login"))
    # The cookie the browser had before logging out no longer opens the app.
    duo.driver.add_cookie({"name": "enertrack_session", "value": session["value"], "path": "/enertrack/"})
    duo.driver.get(url(duo, "nodes"))
    wait(duo, EC.url_contains("/enertrack/login?next="))
