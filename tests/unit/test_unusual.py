"""Unusual days: the thresholds, and days after a silence (a node's first, partial day) left out of the usuals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from enertrack.core.unusual import after_silence, check_day, check_days

MONDAY = date(2026, 3, 30)


@pytest.mark.parametrize(("kwh", "history", "expected"), [
    (20.0, [10.0, 10.0, 30.0, 10.0], "high"),  # the median, not the mean
    (15.1, [10.0, 10.0, 10.0], "high"),
    (15.0, [10.0, 10.0, 10.0], None),  # exactly 150 % is not above it
    (4.9, [10.0, 10.0], "low"),
    (0.0, [10.0, 10.0], "low"),  # a whole day off
    (0.6, [0.2, 0.2], None),  # 300 %, but only 0.4 kWh away
    (30.0, [10.0], None),  # one same weekday is no usual
])
def test_thresholds(kwh: float, history: list[float], expected: str | None) -> None:
    days = {MONDAY - timedelta(weeks=k + 1): v for k, v in enumerate(history)}
    assert check_day(MONDAY, kwh, days).unusual == expected


def test_a_day_after_silence_is_no_usual() -> None:
    # Readings began on the evening of Monday 16 March: 2 kWh that day, then 20 kWh a day.
    daily = {date(2026, 3, 16): 2.0} | {date(2026, 3, 17) + timedelta(days=k): 20.0 for k in range(14)}
    since = date(2026, 3, 2)
    assert after_silence(daily, since) == {date(2026, 3, 16)}
    assert after_silence(daily, date(2026, 3, 16)) == set()  # the window's own first day: nothing before it known
    # Monday 30 March against 23 and 16 March: without the partial 16th, one usual is no judgement.
    check = check_days([MONDAY], daily | {MONDAY: 20.0}, since)[0]
    assert (check.reference_days, check.unusual) == (1, None)
    assert check_days([MONDAY], daily | {MONDAY: 20.0})[0].unusual == "high"  # what it would say with the 16th
