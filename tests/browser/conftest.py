"""Real headless Chromium against the real app served under /enertrack/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from tests.conftest import make_settings
from tests.services import free_port, need

pytestmark = pytest.mark.browser

# Debian's packages first: its chromedriver is built for its chromium (a snap or a pip wheel may not be).
SYSTEM_BIN = "/usr/bin"
INSTALL = "make test installs it as root, or: sudo apt-get install -y chromium chromium-driver"


def browser_binary(name: str) -> str | None:
    """Debian's executable called name, else the first on PATH."""
    return shutil.which(name, path=SYSTEM_BIN) or shutil.which(name)


def major_version(path: str) -> str | None:
    """The major version an executable prints with --version ("Chromium 156.0..." -> "156")."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\b(\d+)\.\d+\.\d+", out)
    return found.group(1) if found else None


@pytest.fixture(scope="session")
def browser_binaries() -> tuple[str, str]:
    """Chromium and its driver, checked once: a missing or mismatched pair skips (fails in CI) with why."""
    chromium, driver = browser_binary("chromium"), browser_binary("chromedriver")
    need(chromium is not None, f"chromium not found ({INSTALL})")
    need(driver is not None, f"chromedriver not found ({INSTALL})")
    assert chromium is not None and driver is not None
    versions = major_version(chromium), major_version(driver)
    need(versions[0] is not None and versions[0] == versions[1],
         f"{chromium} (version {versions[0]}) and {driver} (version {versions[1]}) do not match ({INSTALL})")
    return chromium, driver


@pytest.fixture(autouse=True)
def browser_first(browser_binaries: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before dash_duo (autouse fixtures are set up first): without a browser, skip at once
    instead of letting dash_duo retry the webdriver for 30 s and error."""
    # selenium 4.2 (dash[testing]'s pin) starts the chromedriver it finds on PATH: make it this one.
    monkeypatch.setenv("PATH", os.path.dirname(browser_binaries[1]) + os.pathsep + os.environ.get("PATH", ""))


def pytest_setup_options() -> Any:
    """dash.testing's hook: the Chrome options it starts the driver with (it adds --headless etc.)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    chromium = browser_binary("chromium")
    if chromium is not None:
        options.binary_location = chromium
    return options


@pytest.fixture
def live(tmp_path: Path, dash_duo: Any) -> Iterator[Any]:
    """dash_duo serving a fresh app; opens /enertrack/ (dash_duo would open / and fail)."""
    settings = make_settings(tmp_path)
    upgrade(make_engine(settings.sqlalchemy_url))
    server = create_app(settings)
    dash_duo.start_server(server.extensions["dash_app"], navigate=False, port=free_port())
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


def scroll_to(duo: Any, selector: str) -> None:
    """Bring an element into the window (sections under the node page's charts load only then)."""
    element = wait(duo, lambda d: d.find_elements("css selector", selector), timeout=30)[0]
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)


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
