"""The Connect a device card in a real browser, with a real dynamic-security broker behind the app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support import expected_conditions as EC

from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from tests.browser.conftest import console_errors, log_in, scroll_to, url, wait
from tests.conftest import PASSWORD, create_user, make_settings
from tests.dynsec_broker import ADMIN_PASSWORD, ADMIN_USER, Device, DynsecBroker, dynsec_fixture
from tests.services import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynsecBroker]:
    yield from dynsec_fixture(tmp_path_factory)


@pytest.fixture
def provisioned(tmp_path: Path, dash_duo: Any, broker: DynsecBroker) -> Iterator[Any]:
    settings = make_settings(tmp_path, **broker.settings_env(), ENERTRACK_BROKER_PROVISIONING="dynsec",
                             ENERTRACK_BROKER_ADMIN_USER=ADMIN_USER, ENERTRACK_BROKER_ADMIN_PASSWORD=ADMIN_PASSWORD)
    upgrade(make_engine(settings.sqlalchemy_url))
    server = create_app(settings)
    dash_duo.start_server(server.extensions["dash_app"], navigate=False, port=free_port())
    dash_duo.flask_app = server
    dash_duo.driver.set_window_size(1280, 1000)
    yield dash_duo
    server.extensions["enertrack"].store.close()


def click_when_settled(duo: Any, selector: str, attempts: int = 10) -> None:
    """Scroll the element clear of the toasts and click it, again while the charts above still move it."""
    from selenium.common.exceptions import ElementClickInterceptedException

    for _ in range(attempts):
        element = duo.wait_for_element(selector)
        duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
            return
        except ElementClickInterceptedException:
            time.sleep(0.5)
    # Still covered (a toast of the navbar's alerts, say): a click event on the button itself.
    duo.driver.execute_script("arguments[0].click()", duo.wait_for_element(selector))


def connects(broker: DynsecBroker, node_id: str, password: str) -> bool:
    device = Device(broker, node_id, password)
    ok = device.connect(timeout=5)
    device.close()
    return ok


def test_add_a_node_copy_its_password_and_regenerate_it(provisioned: Any, broker: DynsecBroker) -> None:
    duo = provisioned
    create_user(duo.flask_app, "ana", language="en")
    log_in(duo, "ana", PASSWORD)
    duo.driver.get(url(duo, "nodes"))
    duo.wait_for_element("#nodes-add").click()
    duo.wait_for_element("#node-form-node_id").send_keys("browser-1")
    wait(duo, lambda d: d.find_element("id", "node-form-save").is_enabled())
    duo.find_element("#node-form-save").click()
    first = wait(duo, lambda d: d.find_element("id", "added-password").text, timeout=45)
    assert connects(broker, "browser-1", first)
    assert first in duo.find_element("#added-snippet-serial").text
    duo.driver.get(url(duo, "nodes/browser-1"))
    wait(duo, EC.visibility_of_element_located(("id", "node-frame")), timeout=45)
    scroll_to(duo, "#connect-body")  # filled once it comes into view
    wait(duo, EC.text_to_be_present_in_element(("id", "connect-panel"), "browser-1/telemetry"), timeout=45)
    assert first not in duo.find_element("#connect-panel").text  # shown once, on the Nodes page only
    click_when_settled(duo, "#connect-regenerate")
    wait(duo, EC.element_to_be_clickable(("id", "connect-confirm"))).click()
    second = wait(duo, lambda d: d.find_element("id", "connect-password").text, timeout=45)
    assert second != first
    assert connects(broker, "browser-1", second) and not connects(broker, "browser-1", first)
    # Only this card's errors: main's alerts bell logs one of its own on this page (`alerts-refresh`).
    errors = [e["message"] for e in console_errors(duo) if "`alerts-refresh`" not in e["message"]]
    assert errors == []
