"""What a browser downloads: only the Plotly the charts need, only when a page has charts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from plotly.offline import get_plotlyjs_version
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from enertrack.cli.simulate import register_nodes
from enertrack.core.magnitudes import NAMES
from enertrack.simulation.backfill import backfill
from enertrack.simulation.fleet import make_fleet
from tests.browser.conftest import console_errors, log_in, url, wait
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser
STEP = 60
FETCHED = "return performance.getEntriesByType('resource').map(function (e) { return e.name; });"


def seed(duo: Any, language: str = "es") -> None:
    """Two days of the demo's simulated readings for ana's node casa-01."""
    services = duo.flask_app.extensions["enertrack"]
    create_user(duo.flask_app, "ana", timezone="Europe/Madrid", language=language)
    specs = make_fleet(11, ["casa-01"], timezone="Europe/Madrid")
    register_nodes(services.settings, "ana", specs, STEP, services.store)
    now = int(time.time())
    backfill(services.store, specs, STEP, now - 2 * 86400, now)


def drawn(duo: Any, name: str) -> Any:
    return duo.driver.execute_script(
        "var gd = document.querySelector(arguments[0]); return !!(gd && gd._fullLayout && gd.data.length);",
        f"#node-chart-{name} .js-plotly-plot")


def test_charts_load_the_basic_plotly_bundle_and_only_where_drawn(live: Any) -> None:
    duo = live
    seed(duo)
    duo.driver.get(url(duo, "login"))
    wait(duo, EC.presence_of_element_located((By.ID, "login-username")))
    # A page without a chart (the login) fetches no Plotly; the panel has its chart of today.
    assert not [name for name in duo.driver.execute_script(FETCHED) if "plotly-basic" in name or "plotly.min" in name]
    log_in(duo, "ana", PASSWORD)
    wait(duo, EC.presence_of_element_located((By.ID, "panel-updated")))

    duo.driver.get(url(duo, "nodes/casa-01"))
    for name in NAMES:
        wait(duo, lambda _d, n=name: drawn(duo, n))
    fetched = duo.driver.execute_script(FETCHED)
    assert [name for name in fetched if "/plotly-basic.min.js?v=" in name], fetched
    assert not [name for name in fetched if "plotly.min.js" in name], fetched
    # The same plotly.js as the Python package's, so figures mean what plotly.py meant.
    assert duo.driver.execute_script("return Plotly.version;") == get_plotlyjs_version()
    assert not console_errors(duo)
