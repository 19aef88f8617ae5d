"""The browser the tests drive: Debian's chromium through the chromedriver that was checked."""

from __future__ import annotations

import os
import shutil

import pytest


def test_the_webdriver_starts_the_checked_chromium_and_driver(
    pytestconfig: pytest.Config, browser_binaries: tuple[str, str]
) -> None:
    chromium, driver = browser_binaries
    options = pytestconfig.hook.pytest_setup_options()  # what dash_duo hands to webdriver.Chrome
    assert [option.binary_location for option in options] == [chromium]
    assert shutil.which("chromedriver") == driver  # selenium 4.2 takes the first on PATH
    if os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver"):
        assert (chromium, driver) == ("/usr/bin/chromium", "/usr/bin/chromedriver")
