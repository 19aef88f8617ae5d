"""The bell in a real browser: an alert that arrives while the app is open becomes a toast and a count."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from enertrack.models import AlertEvent
from enertrack.web.services import nodes
from enertrack.web.ui.bell import POLL_MS
from tests.browser.conftest import console_errors, log_in, url, wait
from tests.conftest import create_user

pytestmark = pytest.mark.browser
POLL_S = POLL_MS / 1000 + 10


def badge(duo: Any) -> Any:
    return duo.driver.find_element(By.ID, "nav-bell-count")


def test_a_new_alert_is_toasted_counted_and_read(live: Any) -> None:
    duo = live
    uid = create_user(duo.flask_app, "ana")
    with duo.flask_app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "casa", "interval_s": 10})
    log_in(duo, "ana", "correct horse battery staple")
    wait(duo, EC.presence_of_element_located((By.ID, "nav-bell")))
    assert "d-none" in badge(duo).get_attribute("class")  # nothing unread
    assert console_errors(duo) == []  # the bell's callback finds its components (Dash checks)
    with duo.flask_app.extensions["enertrack"].transaction() as db:
        db.add(AlertEvent(owner_id=uid, node_id="casa", kind="voltage-low", state="firing", ts=1_780_000_000,
                          value=195.0, limit_text="< 207 V"))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "toasts"), "Tensión por debajo de < 207 V en casa"),
         timeout=POLL_S)
    wait(duo, lambda _d: badge(duo).text == "1" and "d-none" not in badge(duo).get_attribute("class"))
    duo.find_element("#nav-bell").click()
    wait(duo, EC.url_to_be(url(duo, "alerts")))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "alert-events-list"), "Tensión por debajo de"))
    duo.find_element("#alert-events-list button").click()  # Mark as read
    wait(duo, lambda d: not d.find_elements(By.CSS_SELECTOR, "#alert-events-list button"))
    wait(duo, lambda _d: "d-none" in badge(duo).get_attribute("class"), timeout=POLL_S)
    assert console_errors(duo) == []
