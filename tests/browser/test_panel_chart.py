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
    now = int(time.time())
    duo.flask_app.extensions["enertrack"].store.write([Reading("casa-01", now, power=98765.0)])
    # The next tick (5 s) patches the bucket still filling: its mean now includes the spike.
    wait(duo, lambda _d: total(duo, "Math.max.apply(null, gd.data[1].y.slice(-2))") > 5000, timeout=20)
    assert total(duo, "gd.data[0].x.length") in (points, points + 1)
    assert total(duo, "gd.data[2].y.length") in (23, 24, 25)
    assert not console_errors(duo)
