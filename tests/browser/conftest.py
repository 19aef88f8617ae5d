"""Real headless Chromium against the real app served under /enertrack/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enertrack.app import create_app
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from tests.conftest import make_settings
from tests.services import need_binary

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path, dash_duo: Any) -> Iterator[Any]:
    """dash_duo serving a fresh app; opens /enertrack/ (dash_duo would open / and fail)."""
    need_binary("chromium", "install Debian's chromium (make test does it as root)")
    need_binary("chromedriver", "install Debian's chromium-driver (make test does it as root)")
    settings = make_settings(tmp_path)
    upgrade(make_engine(settings.sqlalchemy_url))
    server = create_app(settings)
    dash_duo.start_server(server.extensions["dash_app"], navigate=False)
    dash_duo.flask_app = server
    dash_duo.driver.set_window_size(1280, 1000)
    yield dash_duo
    server.extensions["enertrack"].store.close()


def url(duo: Any, path: str = "") -> str:
    """Absolute URL of an app path on the live server."""
    return duo.server.url + "/enertrack/" + path


def console_errors(duo: Any) -> list[dict[str, Any]]:
    """Severe browser console entries (errors), excluding none."""
    return [entry for entry in duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def wait(duo: Any, condition: Any, timeout: float = 15) -> Any:
    """Wait until condition(driver) is truthy; its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(duo.driver, timeout).until(condition)


def log_in(duo: Any, username: str, password: str) -> None:
    """Log in through the real form and land on the panel."""
    from selenium.webdriver.support import expected_conditions as EC

    duo.driver.get(url(duo, "login"))
    duo.wait_for_element("#login-username").send_keys(username)
    duo.find_element("#login-password").send_keys(password)
    duo.find_element("#login-submit").click()
    wait(duo, EC.url_to_be(url(duo)))


def luminance(css: str) -> float:
    """0 (black) to 1 (white) from 'rgb(r, g, b)' or 'rgba(r, g, b, a)'."""
    parts = [float(p) for p in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
    return sum(parts) / (3 * 255)
