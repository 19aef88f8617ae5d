"""The panel's Insights cards and site filter through HTTP, on five weeks of one user's readings."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.calendar import day_start
from enertrack.core.reading import Reading
from enertrack.models import User
from enertrack.web.services import nodes, sites
from enertrack.web.services.quality import week_monday
from tests.conftest import create_user, login
from tests.dash_client import DashClient, components

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
CARDS = "panel-insights.children"
STEP = 60


def watts(ts: int, busy_day: Any) -> float:
    """200 W always on; 1 kW more from 08:00 to 22:00; 5 kW more all of busy_day."""
    moment = datetime.fromtimestamp(ts, ZONE)
    return 200.0 + (1000.0 if 8 <= moment.hour < 22 else 0.0) + (5000.0 if moment.date() == busy_day else 0.0)


def collect(tree: Any, key: str) -> list[Any]:
    """Every value of a prop named key in a component tree."""
    return [c["props"][key] for c in components(tree) if key in c["props"]]


@pytest.fixture
def world(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, Any]:
    """Ana ('es' or 'en' per test) with node h1: five weeks of readings, a busy day 3 days ago, a dip last week."""
    services = app.extensions["enertrack"]
    ana = create_user(app, "ana", language="en", timezone=TZ)
    bob = create_user(app, "bob", language="en", timezone=TZ)
    with services.transaction() as db:
        nodes.create_node(db, ana, {"node_id": "h1", "interval_s": STEP})
        nodes.create_node(db, bob, {"node_id": "x1", "interval_s": STEP})
        db.get(User, ana).price_per_kwh = Decimal("0.25")
    now = int(time.time()) // STEP * STEP
    busy = datetime.fromtimestamp(now, ZONE).date() - timedelta(days=3)
    dip = day_start(week_monday(1, TZ, now) + timedelta(days=2), ZONE) + 11 * 3600
    start = now - 35 * 86400
    energy = 0.0
    readings = []
    for ts in range(start, now, STEP):
        power = watts(ts, busy)
        energy += power * STEP / 3_600_000
        readings.append(Reading("h1", ts, power=power, energy=round(energy, 4), frequency=50.0,
                                voltage=150.0 if dip <= ts < dip + 180 else 229.0))
    services.store.write(readings)
    services.store.write([Reading("x1", ts, power=777.0, voltage=250.0) for ts in range(now - 86400, now, STEP)])
    assert login(client, dash, "ana").status_code == 303
    return {"ana": ana, "bob": bob, "busy": busy}


def _cards(dash: DashClient, site: Any = "all") -> Any:
    resp = dash.call(CARDS, [site])
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]["panel-insights"]["children"]


def test_five_cards_each_with_its_chart(world: dict[str, Any], dash: DashClient) -> None:
    tree = _cards(dash)
    text = " ".join(str(t) for t in collect(tree, "children") if isinstance(t, str))
    # Night-time power is 200 W; the average is (200 x 24 + 1000 x 14) / 24 W plus the busy day's share.
    assert "Your base load is 200 W" in text
    assert "On {} you used".format(world["busy"].isoformat()) in text and "times a usual" in text
    assert "This period's bill is heading for about" in text and "EUR" in text
    assert "Last week the supply at h1 was outside the EN 50160 limits (1 dips, 0 swells)." not in text
    assert "Last week the supply was within the EN 50160 limits on every node judged (1)." in text
    hrefs = collect(tree, "href")
    yesterday = datetime.now(ZONE).date() - timedelta(days=1)
    assert f"/enertrack/analysis?period=hour&start={yesterday}&end={yesterday}" in hrefs
    assert f"/enertrack/analysis?period=hour&start={world['busy']}&end={world['busy']}" in hrefs
    assert "/enertrack/nodes/h1#node-quality" in hrefs
    assert len(collect(tree, "id")) >= 4 and "x1" not in str(tree) and "777" not in str(tree)


def test_the_base_load_costs_a_year_at_the_tariff(world: dict[str, Any], dash: DashClient) -> None:
    text = str(_cards(dash))
    assert "about 438.00 EUR a year" in text  # 0.2 kW x 8760 h x 0.25 EUR


def test_the_cards_speak_spanish(app: Flask, world: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        db.get(User, world["ana"]).language = "es"
    client = app.test_client()
    spanish = DashClient(client, app.extensions["dash_app"])
    assert login(client, spanish, "ana").status_code == 303
    text = str(_cards(spanish))
    assert "Tu consumo base es de 200 W" in text and "Ver el gráfico" in text


def test_another_users_site_shows_nothing(app: Flask, world: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        bobs = sites.list_sites(db, world["bob"])[0].id
    assert _cards(dash, str(bobs)) is None
    assert _cards(dash, "nonsense") is None


def test_an_empty_site_says_when_insights_come(app: Flask, world: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        empty = sites.save_site(db, world["ana"], {"name": "Garage"})
    assert _cards(dash, str(empty.id)) is None or "Insights appear" in str(_cards(dash, str(empty.id)))


def test_the_panel_filters_by_site(app: Flask, world: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        garage = sites.save_site(db, world["ana"], {"name": "Garage"})
    resp = dash.call("panel-updated.children", [0, str(garage.id)]).get_json()["response"]
    assert resp["panel-empty"]["is_open"] is True  # no node in the garage
    resp = dash.call("panel-updated.children", [0, "all"]).get_json()["response"]
    assert resp["panel-empty"]["is_open"] is False
    options = dash.call("panel-site.options", [True]).get_json()["response"]["panel-site"]["options"]
    assert [o["label"] for o in options] == ["All sites", "Main", "Garage"]


def test_a_card_link_opens_the_analysis_on_its_range(world: dict[str, Any], dash: DashClient, client: FlaskClient) -> None:
    day = world["busy"].isoformat()
    wanted = {"period": "hour", "start": day, "end": day}
    resp = dash.call("analysis-range.start_date", ["hour"], [wanted]).get_json()["response"]
    assert resp["analysis-range"] == {"start_date": day, "end_date": day}
    other = dash.call("analysis-range.start_date", ["day"], [wanted]).get_json()["response"]
    assert other["analysis-range"]["start_date"] != day  # another granularity: its own default
    bad = dash.call("analysis-range.start_date", ["hour"], [{"period": "hour", "start": "x", "end": day}])
    assert bad.get_json()["response"]["analysis-range"]["start_date"] == datetime.now(ZONE).date().isoformat()
