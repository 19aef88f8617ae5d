"""The analysis page's site filter and bill section through HTTP: bands, comparisons, forecast, ownership."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.reading import Reading
from enertrack.models import SiteTariff, User
from enertrack.web.services import nodes, sites
from tests.conftest import create_user, login
from tests.dash_client import DashClient

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
BILL = "analysis-bill.children"
CHART = "analysis-chart.figure"


def _texts(tree: Any) -> str:
    return str(tree)


@pytest.fixture
def world(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, Any]:
    """Ana: 'home' (h1, 1 kW) and 'bakery' (b1, 3 kW) over the last 10 days; bob: one node."""
    services = app.extensions["enertrack"]
    ana = create_user(app, "ana", language="en", timezone=TZ)
    bob = create_user(app, "bob", language="en", timezone=TZ)
    with services.transaction() as db:
        for uid, node in ((ana, "h1"), (ana, "b1"), (bob, "x1")):
            nodes.create_node(db, uid, {"node_id": node, "interval_s": 60})
        bakery = sites.save_site(db, ana, {"name": "Bakery", "contracted_kw": "6.9"})
        sites.move_node(db, ana, "b1", bakery.id)
        home = sites.ensure_site(db, ana)
        db.add(SiteTariff(site_id=home.id, valid_from=date(2020, 1, 1), kind="flat", price_llano=Decimal("0.2"),
                          fixed_per_day=Decimal("1")))
        db.get(User, bob).price_per_kwh = Decimal("0.5")
    now = int(time.time()) // 60 * 60
    start = now - 10 * 86400
    readings = []
    for node, watts in (("h1", 1000.0), ("b1", 3000.0), ("x1", 777.0)):
        readings += [Reading(node, ts, power=watts, energy=watts * (ts - start) / 3_600_000, voltage=230.0)
                     for ts in range(start, now, 60)]
    services.store.write(readings)
    assert login(client, dash, "ana").status_code == 303
    return {"home": home.id, "bakery": bakery.id, "now": now}


def _call(dash: DashClient, site: Any, nodes_: Any = None, days: int = 7) -> Any:
    today = datetime.now(ZONE).date()
    resp = dash.call(BILL, ["day", (today - timedelta(days=days)).isoformat(), today.isoformat(), site, nodes_])
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]["analysis-bill"]["children"]


def test_sites_are_offered_and_filter_the_chart(world: dict[str, Any], dash: DashClient) -> None:
    answer = dash.call("analysis-site.options", [True]).get_json()["response"]
    assert answer["analysis-site"]["options"] == [{"label": "All sites", "value": "all"},
                                                  {"label": "Main", "value": str(world["home"])},
                                                  {"label": "Bakery", "value": str(world["bakery"])}]
    today = datetime.now(ZONE).date()
    args = ["day", (today - timedelta(days=2)).isoformat(), today.isoformat(), None, "light"]
    every = dash.call(CHART, [*args, "all"]).get_json()["response"]["analysis-chart"]["figure"]
    home = dash.call(CHART, [*args, str(world["home"])]).get_json()["response"]["analysis-chart"]["figure"]
    assert {t.get("name") for t in every["data"]} >= {"h1", "b1"}
    assert "b1" not in {t.get("name") for t in home["data"]}


def test_the_home_site_is_priced_at_its_own_tariff(world: dict[str, Any], dash: DashClient) -> None:
    text = _texts(_call(dash, str(world["home"])))
    assert "Cost by tariff band" in text and "Fixed and power charges" in text
    assert "Bill forecast: Main" in text and "EUR" in text


def test_a_site_without_tariff_and_no_profile_price_shows_no_costs(world: dict[str, Any], dash: DashClient) -> None:
    text = _texts(_call(dash, str(world["bakery"])))
    assert "Set a tariff to see costs." in text and "EUR" not in text


def test_week_over_week_compares_equal_weeks(world: dict[str, Any], dash: DashClient) -> None:
    # Constant 1 kW: last complete day equals the same day a week before only when both have data;
    # the week before is 8 days ago, inside the 10 days of readings: change 0 %.
    today = datetime.now(ZONE).date()
    day = (today - timedelta(days=1)).isoformat()
    resp = dash.call(BILL, ["day", day, day, str(world["home"]), None]).get_json()["response"]
    text = _texts(resp["analysis-bill"]["children"])
    assert "24.00 kWh" in text and "+0.0 %" in text


@pytest.mark.parametrize("site", ["999", "-1", {"x": 1}, ["1"], "1 OR 1=1"])
def test_a_site_that_is_not_yours_shows_nothing(world: dict[str, Any], dash: DashClient, site: Any) -> None:
    assert _call(dash, site) is None


def test_bobs_node_and_site_give_ana_nothing(app: Flask, world: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        bobs = sites.list_sites(db, 2)[0].id
    assert _call(dash, str(bobs)) is None
    text = _texts(_call(dash, "all", ["x1"]))
    assert "0.00 kWh" in text and "777" not in text
