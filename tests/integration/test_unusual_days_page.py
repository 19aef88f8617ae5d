"""The analysis page's unusual days through HTTP: each flagged day with its kWh, usual, change and link.

Expectations are recomputed here from the watts the test wrote, not by calling EnerTrack code.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.reading import Reading
from enertrack.models import User
from enertrack.web.services import nodes, sites
from tests.conftest import create_user, login
from tests.dash_client import DashClient

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
SECTION = "analysis-unusual.children"
STEP = 300


def watts(ts: int, busy: date, quiet: date) -> float:
    """200 W always on and 1 kW more from 08:00 to 22:00; 5 kW more all of busy; only 50 W all of quiet."""
    moment = datetime.fromtimestamp(ts, ZONE)
    if moment.date() == quiet:
        return 50.0
    return 200.0 + (1000.0 if 8 <= moment.hour < 22 else 0.0) + (5000.0 if moment.date() == busy else 0.0)


def day_kwh(day: date, world: dict[str, Any]) -> float:
    """kWh of a local day: every reading's watts over its STEP (the counter the test wrote)."""
    start = int(datetime.combine(day, datetime.min.time(), tzinfo=ZONE).timestamp())
    end = int(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ZONE).timestamp())
    return sum(watts(t, world["busy"], world["quiet"]) * STEP for t in range(start, end, STEP)) / 3_600_000


def usual(day: date, world: dict[str, Any]) -> float:
    """The median of the same weekday in the four weeks before, days the readings cover in full."""
    refs = [day - timedelta(weeks=k) for k in range(1, 5)]
    return statistics.median(day_kwh(d, world) for d in refs if d > world["first"])


@pytest.fixture
def world(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, Any]:
    """Ana (h1: five weeks, a busy day 3 days ago, a quiet one 8 days ago); bob (x1, the same busy day)."""
    services = app.extensions["enertrack"]
    ana = create_user(app, "ana", language="en", timezone=TZ)
    bob = create_user(app, "bob", language="en", timezone=TZ)
    with services.transaction() as db:
        nodes.create_node(db, ana, {"node_id": "h1", "interval_s": STEP})
        nodes.create_node(db, bob, {"node_id": "x1", "interval_s": STEP})
    now = int(time.time()) // STEP * STEP
    today = datetime.fromtimestamp(now, ZONE).date()
    busy, quiet = today - timedelta(days=3), today - timedelta(days=8)
    start = now - 35 * 86400
    readings = []
    for node, extra in (("h1", 0.0), ("x1", 777.0)):
        energy = 0.0
        for ts in range(start, now, STEP):
            power = watts(ts, busy, quiet) + extra
            readings.append(Reading(node, ts, power=power, energy=round(energy, 6)))
            energy += power * STEP / 3_600_000
    services.store.write(readings)
    assert login(client, dash, "ana").status_code == 303
    return {"ana": ana, "bob": bob, "busy": busy, "quiet": quiet, "today": today,
            "first": datetime.fromtimestamp(start, ZONE).date()}


def _call(dash: DashClient, first: Any, last: Any, site: Any = "all", nodes_: Any = None) -> Any:
    first, last = (d.isoformat() if isinstance(d, date) else d for d in (first, last))
    resp = dash.call(SECTION, ["day", first, last, site, nodes_])
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]["analysis-unusual"]["children"]


def _rows(tree: Any) -> dict[str, list[str]]:
    """Each table row by its id: the text of its cells (a link's label for the first)."""
    rows: dict[str, list[str]] = {}

    def text(node: Any) -> str:
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list):
            return "".join(text(n) for n in node)
        if isinstance(node, dict):
            return text(node.get("props", {}).get("children"))
        return ""

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if node.get("type") == "Tr" and str(props.get("id", "")).startswith("unusual-"):
                rows[props["id"]] = [text(cell) for cell in props["children"]]
            walk(props.get("children"))

    walk(tree)
    return rows


def _number(text: str) -> float:
    """The number in '138.8 kWh', '+638.3 %' or '138,8 kWh'."""
    found = re.search(r"[-+]?[\d.,]+", text.replace("\u2212", "-"))
    assert found, text
    return float(found.group().replace(",", "."))


def test_the_busy_and_the_quiet_day_are_listed_with_their_usual(world: dict[str, Any], dash: DashClient) -> None:
    today = world["today"]
    tree = _call(dash, today - timedelta(days=14), today)
    rows = _rows(tree)
    busy, quiet = world["busy"], world["quiet"]
    assert set(rows) == {f"unusual-{busy}", f"unusual-{quiet}"}
    for day in (busy, quiet):
        label, kwh, median, change, _icon = rows[f"unusual-{day}"]
        expected, reference = day_kwh(day, world), usual(day, world)
        assert label.startswith(day.isoformat()) and day.strftime("%A") in label
        assert _number(kwh) == pytest.approx(expected, abs=0.06)
        assert _number(median) == pytest.approx(reference, abs=0.06)
        assert _number(change) == pytest.approx((expected / reference - 1) * 100, abs=0.06)
    assert _number(rows[f"unusual-{quiet}"][3]) < 0 < _number(rows[f"unusual-{busy}"][3])
    assert f"/enertrack/analysis?period=hour&start={busy}&end={busy}" in str(tree)
    assert "x1" not in str(tree)


def test_a_range_without_them_says_so(world: dict[str, Any], dash: DashClient) -> None:
    first = world["busy"] + timedelta(days=1)
    tree = _call(dash, first, world["today"])
    assert _rows(tree) == {} and "No unusual day in this range." in str(tree)


def test_a_range_too_long_asks_for_a_shorter_one(world: dict[str, Any], dash: DashClient) -> None:
    today = world["today"]
    tree = _call(dash, today - timedelta(days=500), today)
    assert "choose a shorter range" in str(tree) and _rows(tree) == {}


def test_the_list_speaks_spanish(app: Flask, world: dict[str, Any]) -> None:
    with app.extensions["enertrack"].transaction() as db:
        db.get(User, world["ana"]).language = "es"
    client = app.test_client()
    spanish = DashClient(client, app.extensions["dash_app"])
    assert login(client, spanish, "ana").status_code == 303
    today = world["today"]
    tree = _call(spanish, today - timedelta(days=14), today)
    text = str(tree)
    assert "Días inusuales" in text and "Habitual (mediana)" in text
    label, kwh, *_ = _rows(tree)[f"unusual-{world['busy']}"]
    weekday = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")[world["busy"].weekday()]
    assert label == f"{world['busy'].isoformat()} ({weekday})"
    assert kwh == f"{day_kwh(world['busy'], world):.1f}".replace(".", ",") + " kWh"  # a decimal comma


def test_another_users_site_and_nodes_show_nothing_of_theirs(app: Flask, world: dict[str, Any],
                                                            dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        bobs = sites.list_sites(db, world["bob"])[0].id
    today = world["today"]
    assert _call(dash, today - timedelta(days=14), today, str(bobs)) is None
    only_bobs = _call(dash, today - timedelta(days=14), today, "all", ["x1"])
    assert _rows(only_bobs) == {} and "x1" not in str(only_bobs)


@pytest.mark.parametrize(("first", "last"), [("nonsense", "2026-03-01"), ("2026-03-05", "2026-03-01"), (None, None)])
def test_bad_dates_give_nothing_and_no_error(world: dict[str, Any], dash: DashClient, first: Any, last: Any) -> None:
    assert _call(dash, first, last) is None
