"""Chart axes speak the user's language: Spanish month names, day before month."""

from __future__ import annotations

import re
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import log_in, url, wait
from tests.browser.test_network import seed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SPANISH_DAY = re.compile(r"^\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic)$")
ENGLISH_DAY = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}$")


def day_ticks(duo: Any, chart: str) -> list[str]:
    """The first line of each x tick label of a chart (the second, when any, holds the year)."""
    return duo.driver.execute_script("""
        return Array.from(document.querySelectorAll(arguments[0] + ' .xtick text')).map(function (t) {
            var lines = t.querySelectorAll('tspan.line');
            return (lines.length ? lines[0].textContent : t.textContent).trim();
        });""", chart)


@pytest.mark.parametrize(("language", "pattern"), [("es", SPANISH_DAY), ("en", ENGLISH_DAY)])
def test_date_ticks_in_the_users_language_and_order(live: Any, language: str, pattern: re.Pattern[str]) -> None:
    duo = live
    seed(duo, language=language)
    log_in(duo, "ana", PASSWORD)
    duo.driver.get(url(duo, "nodes/casa-01"))
    duo.wait_for_element("#node-chart-power .main-svg")
    duo.driver.find_element(By.CSS_SELECTOR, "#node-preset label[for$='_input_7d']").click()

    def shown(_driver: Any) -> list[str] | None:
        ticks = [t for t in day_ticks(duo, "#node-chart-power") if t]
        return ticks if len(ticks) >= 3 and all(pattern.match(t) for t in ticks) else None

    try:
        wait(duo, shown, timeout=30)
    except Exception:
        pytest.fail(f"x ticks in {language}: {day_ticks(duo, '#node-chart-power')}")
