"""Tariff bands, costs per band over tariff changes, fixed charges and the bill forecast, by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from enertrack.core.forecast import billing_period, forecast
from enertrack.core.tariffs import ES_20TD, FLAT, TariffSpec, band_of, cost_by_band, fixed_charges, in_force

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
TD = TariffSpec(date(2026, 1, 1), ES_20TD, price_punta=0.30, price_llano=0.20, price_valle=0.10,
                power_price_kw_day=0.08, power_price_valle_kw_day=0.01, fixed_per_day=0.5)


def at(*args: int) -> int:
    return int(datetime(*args, tzinfo=ZONE).timestamp())  # type: ignore[misc]


@pytest.mark.parametrize(("moment", "band"), [
    ((2026, 3, 24, 7, 59), "valle"), ((2026, 3, 24, 8, 0), "llano"), ((2026, 3, 24, 10, 0), "punta"),
    ((2026, 3, 24, 13, 45), "punta"), ((2026, 3, 24, 14, 0), "llano"), ((2026, 3, 24, 18, 0), "punta"),
    ((2026, 3, 24, 21, 59), "punta"), ((2026, 3, 24, 22, 0), "llano"), ((2026, 3, 24, 23, 59), "llano"),
    ((2026, 3, 28, 12, 0), "valle"),  # Saturday
    ((2026, 3, 29, 19, 0), "valle"),  # Sunday, the clock-change day
    ((2026, 10, 12, 11, 0), "valle"),  # Monday, national holiday (Fiesta Nacional)
    ((2026, 4, 3, 11, 0), "punta"),  # Good Friday: movable, so not a 2.0TD holiday
    ((2026, 12, 8, 11, 0), "valle"),
])
def test_20td_bands(moment: tuple[int, ...], band: str) -> None:
    assert band_of(datetime(*moment, tzinfo=ZONE), ES_20TD) == band  # type: ignore[misc]
    assert band_of(datetime(*moment, tzinfo=ZONE), FLAT) == "llano"  # type: ignore[misc]


def test_the_tariff_in_force_changes_on_its_date() -> None:
    old, new = TariffSpec(date(2026, 1, 1), price_llano=0.15), TariffSpec(date(2026, 3, 26), price_llano=0.25)
    assert in_force([old, new], date(2025, 12, 31)) is None
    assert in_force([old, new], date(2026, 3, 25)) is old
    assert in_force([old, new], date(2026, 3, 26)) is new


def test_cost_per_band_across_a_tariff_change_and_the_clock_change() -> None:
    flat_before = TariffSpec(date(2026, 1, 1), FLAT, price_llano=0.15)
    td_after = TariffSpec(date(2026, 3, 27), ES_20TD, price_punta=0.30, price_llano=0.20, price_valle=0.10)
    # One kWh per quarter hour from Thursday 26 March to Monday 30 March 00:00 (the Sunday has 23 hours).
    starts = np.arange(at(2026, 3, 26), at(2026, 3, 30), 900, dtype=np.int64)
    result = cost_by_band(starts, np.ones(starts.size), [flat_before, td_after], TZ)
    # Thursday at the flat price: 96 kWh, all "llano" (a flat tariff's one band).
    # Friday 2.0TD: punta 8 h, llano 8 h, valle 8 h -> 32 kWh each. Weekend: valle 96 + 92.
    assert result.kwh == {"punta": 32.0, "llano": 96.0 + 32.0, "valle": 32.0 + 96.0 + 92.0}
    assert result.cost["punta"] == pytest.approx(32 * 0.30)
    assert result.cost["llano"] == pytest.approx(96 * 0.15 + 32 * 0.20)
    assert result.cost["valle"] == pytest.approx((32 + 96 + 92) * 0.10)
    assert result.unpriced_kwh == 0.0
    before = cost_by_band(np.array([at(2025, 12, 31, 12)]), np.array([2.0]), [flat_before], TZ)
    assert (before.unpriced_kwh, before.total_cost, before.total_kwh) == (2.0, 0.0, 2.0)


def test_fixed_charges_per_day_and_per_kw_with_two_contracted_powers() -> None:
    days = [date(2026, 3, 1) + timedelta(days=k) for k in range(31)]
    assert fixed_charges(days, [TD], 4.6, 3.3) == pytest.approx(31 * (0.5 + 4.6 * 0.08 + 3.3 * 0.01))
    assert fixed_charges(days, [TD], 4.6, None) == pytest.approx(31 * (0.5 + 4.6 * 0.08 + 4.6 * 0.01))
    flat = TariffSpec(date(2026, 3, 16), FLAT, price_llano=0.2, power_price_kw_day=0.1, fixed_per_day=1.0)
    assert fixed_charges(days, [flat], 5.0, 2.0) == pytest.approx(16 * (1.0 + 5.0 * 0.1))  # from the 16th


@pytest.mark.parametrize(("today", "billing_day", "expected"), [
    (date(2026, 3, 29), None, (date(2026, 3, 1), date(2026, 4, 1))),
    (date(2026, 12, 5), None, (date(2026, 12, 1), date(2027, 1, 1))),
    (date(2026, 3, 29), 15, (date(2026, 3, 15), date(2026, 4, 15))),
    (date(2026, 3, 10), 15, (date(2026, 2, 15), date(2026, 3, 15))),
    (date(2026, 1, 10), 15, (date(2025, 12, 15), date(2026, 1, 15))),
])
def test_billing_period(today: date, billing_day: int | None, expected: tuple[date, date]) -> None:
    assert billing_period(today, billing_day) == expected


def test_forecast_projects_the_rest_from_each_of_four_weeks() -> None:
    # March 2026 (spring forward on the 29th: 31 days, 743 hours); now: Friday 20 March 12:00.
    start, end, now = at(2026, 3, 1), at(2026, 4, 1), at(2026, 3, 20, 12)
    # Past four weeks: week k (1 = latest) used k x 0.1 kWh in every quarter hour.
    hist = np.arange(now - 4 * 7 * 86400, now, 900, dtype=np.int64)
    hist_kwh = np.array([(((now - 1 - t) // (7 * 86400)) + 1) * 0.1 for t in hist])
    done = np.arange(start, now, 900, dtype=np.int64)
    done_kwh = np.full(done.size, 0.25)
    days = [date(2026, 3, 1) + timedelta(days=k) for k in range(31)]
    flat = TariffSpec(date(2026, 1, 1), FLAT, price_llano=0.2, fixed_per_day=1.0)
    result = forecast(start, end, now, (done, done_kwh), (hist, hist_kwh), [flat], days, (None, None), TZ)
    remaining = (end - now) // 900  # quarters left: the 23-hour Sunday is counted as it is
    assert remaining == (11 * 24 + 12 - 1) * 4
    so_far = done.size * 0.25
    assert result.so_far_kwh == pytest.approx(so_far)
    assert (result.low_kwh, result.high_kwh) == pytest.approx((so_far + remaining * 0.1, so_far + remaining * 0.4))
    assert result.expected_kwh == pytest.approx(so_far + remaining * 0.25)
    assert result.expected_cost == pytest.approx((so_far + remaining * 0.25) * 0.2 + 31 * 1.0)
    assert (result.low_cost, result.high_cost) == pytest.approx(
        ((so_far + remaining * 0.1) * 0.2 + 31, (so_far + remaining * 0.4) * 0.2 + 31))
    assert result.so_far_cost == pytest.approx(so_far * 0.2 + 20 * 1.0)  # 20 days begun
    assert result.weeks_used == 4


def test_forecast_without_history_or_tariff() -> None:
    start, end, now = at(2026, 3, 1), at(2026, 4, 1), at(2026, 3, 20, 12)
    empty = (np.empty(0, dtype=np.int64), np.empty(0))
    result = forecast(start, end, now, empty, empty, [], [], (None, None), TZ)
    assert (result.expected_kwh, result.low_kwh, result.high_kwh, result.weeks_used) == (0.0, 0.0, 0.0, 0)
    assert result.expected_cost is None and result.so_far_cost is None


def test_band_costs_of_several_sites_add_up_band_by_band() -> None:
    from enertrack.core.tariffs import BandCost, add_band_costs

    home = BandCost({"punta": 0.0, "llano": 10.0, "valle": 0.0}, {"punta": 0.0, "llano": 2.0, "valle": 0.0}, 1.0)
    shop = BandCost({"punta": 3.0, "llano": 2.0, "valle": 5.0}, {"punta": 0.9, "llano": 0.4, "valle": 0.5}, 0.0)
    both = add_band_costs([home, shop])
    assert both.kwh == {"punta": 3.0, "llano": 12.0, "valle": 5.0}
    assert both.cost == pytest.approx({"punta": 0.9, "llano": 2.4, "valle": 0.5})
    assert (both.unpriced_kwh, both.total_cost) == (1.0, pytest.approx(3.8))


def test_energy_costs_price_each_interval_at_its_band_and_day() -> None:
    from enertrack.core.tariffs import energy_costs

    flat = TariffSpec(date(2026, 3, 1), FLAT, price_llano=0.15)
    td = TariffSpec(date(2026, 3, 27), ES_20TD, price_punta=0.30, price_llano=0.20, price_valle=0.10)
    starts = np.array([at(2026, 2, 28, 12), at(2026, 3, 26, 11), at(2026, 3, 27, 7), at(2026, 3, 27, 9),
                       at(2026, 3, 27, 11), at(2026, 3, 28, 11)], dtype=np.int64)
    costs = energy_costs(starts, np.full(6, 2.0), [flat, td], TZ)
    # Before any tariff: nothing; flat Thursday; Friday valle, llano, punta; Saturday valle.
    assert costs.tolist() == pytest.approx([0.0, 0.30, 0.20, 0.40, 0.60, 0.20])


def test_forecasts_of_several_sites_add_up_and_a_missing_price_hides_the_total() -> None:
    from enertrack.core.forecast import Forecast, combine

    home = Forecast(100, 200, 10.0, 30.0, 25.0, 40.0, 3.0, 9.0, 7.0, 12.0, 4)
    shop = Forecast(150, 300, 5.0, 20.0, 18.0, 21.0, 1.0, 4.0, 3.5, 4.5, 2)
    both = combine([home, shop])
    assert (both.start, both.end, both.weeks_used) == (100, 300, 4)
    assert (both.so_far_kwh, both.expected_kwh, both.low_kwh, both.high_kwh) == (15.0, 50.0, 43.0, 61.0)
    assert (both.so_far_cost, both.expected_cost, both.low_cost, both.high_cost) == (4.0, 13.0, 10.5, 16.5)
    unpriced = Forecast(150, 300, 5.0, 20.0, 18.0, 21.0, None, None, None, None, 2)
    assert combine([home, unpriced]).expected_cost is None
    assert combine([home, unpriced]).expected_kwh == 50.0
