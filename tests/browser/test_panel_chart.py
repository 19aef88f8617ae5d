"""The panel's chart of today in a real browser: drawn, then patched live by the ticks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from enertrack.core.reading import Reading
from tests.browser.conftest import console_errors, log_in, wait
from tests.browser.test_network import seed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
TOTAL = "var gd = document.querySelector('#panel-today .js-plotly-plot'); return gd && gd.data.length ? {}: null;"


def total(duo: Any, expression: str) -> Any:
    return duo.driver.execute_script(TOTAL.format(expression))


def test_today_chart_is_patched_by_each_tick(live: Any) -> None:
    duo = live
    seed(duo)
    log_in(duo, "ana", PASSWORD)
    wait(duo, lambda _d: total(duo, "gd.data[0].y.filter(function (v) { return v !== null; }).length") or None)
    assert total(duo, "gd.data.length") == 3  # total, casa-01, energy by hour
    points = total(duo, "gd.data[0].x.length")
    before = total(duo, "gd.data[0].y[gd.data[0].y.length - 1]")
    store = duo.flask_app.extensions["enertrack"].store
    latest = store.latest(["casa-01"])["casa-01"]
    # 50 Wh more within the quarter still filling: its mean power rises by at least 200 W. The
    # reading comes >= 12 s after the seeded last one, or its 15+ kW would pass the 30 kW glitch
    # bound and the energy rule would drop it (CI logged in fast enough for that once).
    time.sleep(max(0.0, latest.ts + 12 - time.time()))
    store.write([Reading("casa-01", int(time.time()), power=3000.0, energy=latest.energy + 0.05)])
    wait(duo, lambda _d: total(duo, "gd.data[0].y[gd.data[0].y.length - 1]") > before + 150, timeout=45)  # ticks every 5 s; slack for a loaded machine
    assert total(duo, "gd.data[0].x.length") in (points, points + 1)
    assert total(duo, "gd.data[2].y.length") in (23, 24, 25)
    assert not console_errors(duo)
