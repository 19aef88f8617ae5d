"""Numbers, ages and times as people read them, per language (the CSV never comes through here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from enertrack.core.magnitudes import BY_NAME
from enertrack.numerals import decimal, separators
from enertrack.web.ui import fmt


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(("call", "es", "en"), [
    # Babel's Spanish groups four-digit numbers too (it does not apply CLDR's minimum grouping digits).
    (lambda lang: fmt.number(lang, "power", 4321.0), "4.321", "4,321"),
    (lambda lang: fmt.number(lang, "voltage", 231.04), "231,0", "231.0"),
    (lambda lang: fmt.number(lang, "current", 18.8), "18,80", "18.80"),
    (lambda lang: fmt.number(lang, "energy", 1234567.891), "1.234.567,89", "1,234,567.89"),
    (lambda lang: fmt.number(lang, "power_factor", -0.5), "-0,50", "-0.50"),
    (lambda lang: fmt.number(lang, "frequency", None), "—", "—"),
    (lambda lang: fmt.power(lang, 4321.0), ("4.321", "W"), ("4,321", "W")),
    (lambda lang: fmt.power(lang, 12_345.0), ("12,3", "kW"), ("12.3", "kW")),
    (lambda lang: fmt.power(lang, None), ("—", "W"), ("—", "W")),
    (lambda lang: fmt.energy(lang, 1234.56), "1.234,6", "1,234.6"),
    (lambda lang: fmt.energy(lang, 0.875), "0,88", "0.88"),
    (lambda lang: fmt.money(lang, 1234.5, "EUR"), "1.234,50 EUR", "1,234.50 EUR"),
    (lambda lang: fmt.percent(lang, 0.5), "50,0 %", "50.0 %"),
    (lambda lang: fmt.percent(lang, -0.125, signed=True), "-12,5 %", "-12.5 %"),
    (lambda lang: fmt.percent(lang, 0.0, signed=True), "+0,0 %", "+0.0 %"),
    (lambda lang: fmt.age(lang, 1200 * 86400), "hace 1.200 d", "1,200 d ago"),
])
def test_numbers_are_written_the_way_each_language_writes_them(call: Any, es: Any, en: Any) -> None:
    assert (call("es"), call("en")) == (es, en)


def test_magnitude_format_needs_the_language() -> None:
    assert BY_NAME["voltage"].format(229.96, "es") == "230,0"
    assert BY_NAME["voltage"].format(229.96, "en") == "230.0"


def test_what_is_not_a_number_shows_as_missing() -> None:
    assert decimal("es", float("nan"), 2) == decimal("en", float("inf"), 1) == "—"
    assert decimal("xx", 1234.5, 1) == "1.234,5"  # an unknown language falls back to Spanish, the default


def test_separators_for_plotly() -> None:
    assert (separators("es"), separators("en")) == (",.", ".,")


def test_local_time_tells_the_two_readings_of_a_repeated_hour_apart() -> None:
    first, second = epoch("2026-10-25T00:30:00+00:00"), epoch("2026-10-25T01:30:00+00:00")
    assert fmt.local_time(first, "Europe/Madrid") == "2026-10-25 02:30:00 +02"
    assert fmt.local_time(second, "Europe/Madrid") == "2026-10-25 02:30:00 +01"
    assert fmt.local_time(second + 3600, "Europe/Madrid") == "2026-10-25 03:30:00"  # once only: no offset
    assert fmt.local_time(epoch("2026-01-01T00:00:00+05:45"), "Asia/Kathmandu", with_date=False) == "00:00:00"
    assert fmt.utc_offset("+0545") == "+05:45" and fmt.utc_offset("-0300") == "-03"


@pytest.mark.parametrize("value", [-1e-12, -0.0, 0.0, 1e-12, -0.04])
def test_a_change_that_rounds_to_zero_is_never_negative(value: float) -> None:
    assert decimal("es", value, 1, signed=True) == "+0,0"
    assert fmt.percent("en", value / 100, signed=True) == "+0.0 %"
