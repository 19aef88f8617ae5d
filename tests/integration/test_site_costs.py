"""'All sites' costs: each site's nodes at that site's own tariffs, summed; checked against a hand calculation.

Ana has two sites. Home (h1): a flat price that changes on 10 May, a fixed charge per day that
changes with it, calendar-month billing; h1 draws 1000 W and 1500 W in alternate weeks, so the
bill forecast has a range. Bakery (b1): 2.0TD with two contracted powers, billing day 15; b1 draws
3000 W from 08:00 to 20:00 and 500 W at night, every day. 1 May is a national holiday (valle).
Every expectation below is computed in this file from those words, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from enertrack.core.calendar import boundaries
from enertrack.core.reading import Reading
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.models import SiteTariff
from enertrack.web.app import create_app
from enertrack.web.services import bill, nodes, sites
from enertrack.web.services.insights import insights
from tests.conftest import create_user, login, make_settings
from tests.dash_client import DashClient

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
WEEK = 7 * 86400
Q = 900


def at(*args: int) -> int:
    return int(datetime(*args, tzinfo=ZONE).timestamp())  # type: ignore[misc]


NOW = at(2026, 5, 20, 12)  # a Wednesday; no clock change from 15 April to 15 June
FIRST = at(2026, 4, 15)
CHANGE = date(2026, 5, 10)  # home: 0.20 -> 0.30 per kWh, 1.00 -> 1.50 per day
BAKERY_DAILY = 0.5 + 4.6 * 0.1 + 3.0 * 0.05  # fixed per day + P1 and P2 power terms


def home_watts(ts: int) -> float:
    """1000 W and 1500 W in alternate weeks counted back from NOW (the forecast's own history weeks)."""
    return 1500.0 if ((ts - (NOW - 4 * WEEK)) // WEEK) % 2 else 1000.0


def bakery_watts(ts: int) -> float:
    return 3000.0 if 8 <= datetime.fromtimestamp(ts, ZONE).hour < 20 else 500.0


PLANS = {"h1": home_watts, "b1": bakery_watts}


def kwh(node: str, start: int, end: int) -> float:
    """kWh the plan draws in [start, end), minute by minute (readings are a minute apart)."""
    return sum(PLANS[node](t) * 60 for t in range(start, end, 60)) / 3_600_000.0


def home_price(ts: int) -> float:
    return 0.20 if datetime.fromtimestamp(ts, ZONE).date() < CHANGE else 0.30


def home_fixed(day: date) -> float:
    return 1.0 if day < CHANGE else 1.5


def bakery_band(ts: int) -> str:
    moment = datetime.fromtimestamp(ts, ZONE)
    if moment.weekday() >= 5 or (moment.month, moment.day) == (5, 1):
        return "valle"
    hour = moment.hour
    if hour < 8:
        return "valle"
    return "punta" if 10 <= hour < 14 or 18 <= hour < 22 else "llano"


BAKERY_PRICE = {"punta": 0.30, "llano": 0.20, "valle": 0.10}


def days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((end - first).days)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app with Ana's two sites, their tariffs and 35 days of minute readings (written once)."""
    settings = make_settings(Path(tmp_path_factory.mktemp("site-costs")))
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    app: Flask = create_app(settings)
    services = app.extensions["enertrack"]
    ana = create_user(app, "ana", language="en", timezone=TZ)
    with services.transaction() as db:
        for node in ("h1", "b1"):
            nodes.create_node(db, ana, {"node_id": node, "interval_s": 60})
        home = sites.ensure_site(db, ana)
        home.name = "Home"
        bakery = sites.save_site(db, ana, {"name": "Bakery", "contracted_kw": "4.6", "contracted_valle_kw": "3",
                                           "billing_day": "15"})
        sites.move_node(db, ana, "b1", bakery.id)
        db.add_all([
            SiteTariff(site_id=home.id, valid_from=date(2026, 1, 1), kind="flat", price_llano=Decimal("0.20"),
                       fixed_per_day=Decimal("1")),
            SiteTariff(site_id=home.id, valid_from=CHANGE, kind="flat", price_llano=Decimal("0.30"),
                       fixed_per_day=Decimal("1.5")),
            SiteTariff(site_id=bakery.id, valid_from=date(2026, 1, 1), kind="es-2.0td", price_punta=Decimal("0.30"),
                       price_llano=Decimal("0.20"), price_valle=Decimal("0.10"), power_price_kw_day=Decimal("0.1"),
                       power_price_valle_kw_day=Decimal("0.05"), fixed_per_day=Decimal("0.5")),
        ])
    for node, plan in PLANS.items():
        energy, readings = 0.0, []
        for ts in range(FIRST, NOW + 60, 60):
            readings.append(Reading(node, ts, power=plan(ts), energy=energy, voltage=230.0))
            energy += plan(ts) * 60 / 3_600_000.0
        for i in range(0, len(readings), 10000):
            services.store.write(readings[i:i + 10000])
    yield {"app": app, "ana": ana}
    services.store.close()
    services.engine.dispose()


def test_the_band_split_of_all_sites_is_each_site_at_its_own_tariff(world: dict[str, Any]) -> None:
    first, end = date(2026, 4, 27), date(2026, 5, 15)  # across the holiday and home's tariff change
    start, stop = at(2026, 4, 27), at(2026, 5, 15)
    expected_kwh = dict.fromkeys(BAKERY_PRICE, 0.0)
    expected_cost = dict.fromkeys(BAKERY_PRICE, 0.0)
    for q in range(start, stop, Q):
        home = kwh("h1", q, q + Q)  # a flat tariff's one band is llano
        expected_kwh["llano"] += home
        expected_cost["llano"] += home * home_price(q)
        band, bakery = bakery_band(q), kwh("b1", q, q + Q)
        expected_kwh[band] += bakery
        expected_cost[band] += bakery * BAKERY_PRICE[band]
    fixed = sum(home_fixed(d) + BAKERY_DAILY for d in days(first, end))
    app = world["app"]
    with app.extensions["enertrack"].read() as db:
        every = bill.pricings(db, world["ana"], "all")
    split = bill.sites_band_split(app.extensions["enertrack"].store, every, first, end, TZ, NOW)
    assert split is not None and split.priced
    for band in BAKERY_PRICE:
        assert split.costs.kwh[band] == pytest.approx(expected_kwh[band], abs=1e-3), band
        assert split.costs.cost[band] == pytest.approx(expected_cost[band], abs=1e-3), band
    assert split.fixed == pytest.approx(fixed)
    # Narrowed to b1: only the bakery, its fixed charges and no more.
    with app.extensions["enertrack"].read() as db:
        only_bakery = bill.pricings(db, world["ana"], "all", ["b1"])
    narrow = bill.sites_band_split(app.extensions["enertrack"].store, only_bakery, first, end, TZ, NOW)
    assert narrow is not None
    assert narrow.fixed == pytest.approx(BAKERY_DAILY * len(days(first, end)))
    assert narrow.costs.total_cost == pytest.approx(
        sum(kwh("b1", q, q + Q) * BAKERY_PRICE[bakery_band(q)] for q in range(start, stop, Q)), abs=1e-3)


def _home_forecast() -> dict[str, Any]:
    """Home's May bill at NOW: one run per history week, each at that week's constant power."""
    start, end = at(2026, 5, 1), at(2026, 6, 1)
    done = [(q, kwh("h1", q, q + Q)) for q in range(start, NOW, Q)]
    so_far_kwh = sum(v for _, v in done)
    so_far_cost = sum(v * home_price(q) for q, v in done)
    remaining = range(NOW, end, Q)
    fixed = sum(home_fixed(d) for d in days(date(2026, 5, 1), date(2026, 6, 1)))
    runs_kwh, runs_cost = [], []
    for k in range(1, 5):  # week k before NOW drew one constant power all week
        watts = home_watts(NOW - k * WEEK)
        runs_kwh.append(so_far_kwh + len(remaining) * watts * Q / 3_600_000.0)
        runs_cost.append(so_far_cost + sum(watts * Q / 3_600_000.0 * home_price(q) for q in remaining) + fixed)
    return {"so_far_kwh": so_far_kwh, "runs_kwh": runs_kwh, "runs_cost": runs_cost,
            "so_far_cost": so_far_cost + sum(home_fixed(d) for d in days(date(2026, 5, 1), date(2026, 5, 21)))}


def _bakery_forecast() -> dict[str, Any]:
    """The bakery's bill from 15 May to 15 June: every day alike, so every run is the plan itself."""
    start, end = at(2026, 5, 15), at(2026, 6, 15)
    so_far = [(q, kwh("b1", q, q + Q)) for q in range(start, NOW, Q)]
    whole = [(q, kwh("b1", q, q + Q)) for q in range(start, end, Q)]
    fixed = BAKERY_DAILY * 31
    cost = sum(v * BAKERY_PRICE[bakery_band(q)] for q, v in whole) + fixed
    return {"so_far_kwh": sum(v for _, v in so_far), "runs_kwh": [sum(v for _, v in whole)] * 4,
            "runs_cost": [cost] * 4,
            "so_far_cost": sum(v * BAKERY_PRICE[bakery_band(q)] for q, v in so_far) + BAKERY_DAILY * 6}


def test_the_bill_forecast_of_all_sites_sums_each_sites_own(world: dict[str, Any]) -> None:
    app = world["app"]
    with app.extensions["enertrack"].read() as db:
        found = bill.bill_forecast(db, app.extensions["enertrack"].store, world["ana"], "all", TZ, NOW)
    home, bakery = _home_forecast(), _bakery_forecast()
    assert len(set(home["runs_kwh"])) == 2  # the alternate weeks give the home a real range
    total = found.total
    assert (found.first, found.end, found.name) == (date(2026, 5, 1), date(2026, 6, 15), None)
    assert total.so_far_kwh == pytest.approx(home["so_far_kwh"] + bakery["so_far_kwh"], abs=1e-3)
    assert total.expected_kwh == pytest.approx(sum(home["runs_kwh"]) / 4 + sum(bakery["runs_kwh"]) / 4, abs=1e-3)
    assert total.low_kwh == pytest.approx(min(home["runs_kwh"]) + min(bakery["runs_kwh"]), abs=1e-3)
    assert total.high_kwh == pytest.approx(max(home["runs_kwh"]) + max(bakery["runs_kwh"]), abs=1e-3)
    assert total.expected_cost == pytest.approx(sum(home["runs_cost"]) / 4 + sum(bakery["runs_cost"]) / 4, abs=1e-3)
    assert total.low_cost == pytest.approx(min(home["runs_cost"]) + min(bakery["runs_cost"]), abs=1e-3)
    assert total.high_cost == pytest.approx(max(home["runs_cost"]) + max(bakery["runs_cost"]), abs=1e-3)
    assert total.so_far_cost == pytest.approx(home["so_far_cost"] + bakery["so_far_cost"], abs=1e-3)
    assert [p.name for p, _ in found.parts] == ["Home", "Bakery"]


def test_the_analysis_costs_of_all_sites_per_day_and_node(world: dict[str, Any]) -> None:
    app = world["app"]
    store = app.extensions["enertrack"].store
    marks = boundaries(date(2026, 4, 29), date(2026, 5, 12), "day", TZ)
    with app.extensions["enertrack"].read() as db:
        every = bill.pricings(db, world["ana"], "all")
    costs = bill.period_costs(store, every, marks, TZ)
    assert costs is not None
    for i, day in enumerate(days(date(2026, 4, 29), date(2026, 5, 12))):
        span = range(marks[i], marks[i + 1], Q)
        home = sum(kwh("h1", q, q + Q) * home_price(q) for q in span)
        bakery = sum(kwh("b1", q, q + Q) * BAKERY_PRICE[bakery_band(q)] for q in span)
        assert costs["h1"].iloc[i] == pytest.approx(home, abs=1e-3), day
        assert costs["b1"].iloc[i] == pytest.approx(bakery, abs=1e-3), day
    week = range(at(2026, 5, 4), at(2026, 5, 11), Q)
    expected = sum(kwh("h1", q, q + Q) * home_price(q) + kwh("b1", q, q + Q) * BAKERY_PRICE[bakery_band(q)]
                   for q in week)
    assert bill.range_cost(store, every, at(2026, 5, 4), at(2026, 5, 11), TZ) == pytest.approx(expected, abs=1e-3)


def test_the_standby_cost_of_all_sites_is_each_base_load_at_its_own_price(world: dict[str, Any]) -> None:
    app = world["app"]
    services = app.extensions["enertrack"]
    with services.read() as db:
        cards = insights(db, services.store, world["ana"], "all", TZ, "230v50", NOW)
    card = next(c for c in cards if c.kind == "base_load")
    # Night base loads: home 1000 W (half its nights; the 10th percentile), bakery 500 W.
    # Home's price is flat 0.30 now; the bakery's standby price is a constant load's mean over a week
    # of 2.0TD: 5 weekdays of 8 h at each price, 2 weekend days valle.
    bakery_mean = (5 * 8 * (0.30 + 0.20 + 0.10) + 2 * 24 * 0.10) / 168
    assert card.values["yearly_cost"] == pytest.approx(8760 * (1.0 * 0.30 + 0.5 * bakery_mean), rel=1e-6)
    with services.read() as db:
        home_only = insights(db, services.store, world["ana"], str(sites.ensure_site(db, world["ana"]).id), TZ,
                             "230v50", NOW)
    assert next(c for c in home_only if c.kind == "base_load").values["yearly_cost"] == pytest.approx(8760 * 0.30)


def test_the_analysis_page_and_its_bill_section_show_the_sum(world: dict[str, Any]) -> None:
    app = world["app"]
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    assert login(client, dash, "ana").status_code == 303
    week = range(at(2026, 5, 4), at(2026, 5, 11), Q)
    home = sum(kwh("h1", q, q + Q) * home_price(q) for q in week)
    bakery = sum(kwh("b1", q, q + Q) * BAKERY_PRICE[bakery_band(q)] for q in week)
    resp = dash.call("analysis-chart.figure", ["day", "2026-05-04", "2026-05-10", None, "light", "all"])
    assert resp.status_code == 200, resp.data[:300]
    answer = resp.get_json()["response"]
    shown = str(answer["analysis-stats"]["children"])
    assert f"{home + bakery:,.2f} EUR" in shown and f"{home:,.2f} EUR" in shown and f"{bakery:,.2f} EUR" in shown
    total_line = answer["analysis-chart"]["figure"]["data"][-1]
    assert sum(total_line["customdata"]) == pytest.approx(home + bakery, abs=0.01)
    resp = dash.call("analysis-bill.children", ["day", "2026-05-04", "2026-05-10", "all", None])
    text = str(resp.get_json()["response"]["analysis-bill"]["children"])
    fixed = sum(home_fixed(d) + BAKERY_DAILY for d in days(date(2026, 5, 4), date(2026, 5, 11)))
    assert f"{fixed:,.2f} EUR" in text and "Bill forecast: All sites" in text
