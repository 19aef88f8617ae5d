"""The node page's power-quality card and its CSV, through HTTP as the browser calls them."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

import enertrack.web.ui.quality as quality_ui
from enertrack.core.calendar import day_start
from enertrack.core.reading import Reading
from enertrack.models import Node, Site, User
from enertrack.web.services import nodes, sites
from enertrack.web.services.quality import week_monday
from tests.conftest import create_user, login
from tests.dash_client import DashClient, components, has_class

TZ = "Europe/Madrid"
STEP = 60
BODY = quality_ui.BODY + ".children"


def texts(tree: Any, cls: str) -> list[str]:
    """Children of components whose className contains cls."""
    return [c["props"].get("children") for c in components(tree) if has_class(c["props"], cls)]


@pytest.fixture
def seeded(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, Any]:
    """Ana's node n1 with last week's one-minute readings: a 2-minute dip to 180 V on Tuesday at 10:00."""
    uid = create_user(app, "ana", language="en", timezone=TZ)
    create_user(app, "bob", language="en", timezone=TZ)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "description": "Kitchen", "interval_s": STEP})
    monday = week_monday(1, TZ, time.time())
    zone = ZoneInfo(TZ)
    start, end = day_start(monday, zone), day_start(monday + timedelta(days=7), zone)
    dip = day_start(monday + timedelta(days=1), zone) + 10 * 3600
    readings = [Reading("n1", ts, voltage=180.0 if dip <= ts < dip + 120 else 231.0, frequency=50.01)
                for ts in range(start, end, STEP)]
    app.extensions["enertrack"].store.write(readings)
    assert login(client, dash, "ana").status_code == 303
    return {"uid": uid, "start": start, "end": end, "dip": dip}


def test_last_week_shows_its_verdict_and_its_dip(seeded: dict[str, Any], dash: DashClient) -> None:
    resp = dash.call(BODY, ["n1", "1"])
    assert resp.status_code == 200, resp.data[:300]
    answer = resp.get_json()["response"]
    tree = answer[quality_ui.BODY]["children"]
    assert texts(tree, "node-quality-verdict") == ["Within the limits"]
    table = str(texts(tree, "node-quality-table"))
    assert "Dips (under 90 %)" in table and "'1'" in table and "longest 2 min" in table
    assert "230 V · 50 Hz" in table
    assert answer[quality_ui.DOWNLOAD]["href"] == "/enertrack/nodes/n1/power-quality.csv?weeks=12"


def test_this_week_has_no_readings_yet(seeded: dict[str, Any], dash: DashClient) -> None:
    tree = dash.call(BODY, ["n1", "0"]).get_json()["response"][quality_ui.BODY]["children"]
    assert texts(tree, "node-quality-verdict") == ["Not enough readings"]


def test_a_node_nominal_of_its_own_changes_the_verdict(app: Flask, seeded: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        db.query(Node).filter_by(node_id="n1").one().nominal_voltage = 200.0  # 231 V is +15.5 % of it
    tree = dash.call(BODY, ["n1", "1"]).get_json()["response"][quality_ui.BODY]["children"]
    assert texts(tree, "node-quality-verdict") == ["Outside the limits"]


def test_the_site_nominal_applies_when_the_node_has_none(app: Flask, seeded: dict[str, Any], dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        site = sites.ensure_site(db, seeded["uid"])
        site.nominal_voltage, site.nominal_frequency = 120.0, 60.0
    tree = dash.call(BODY, ["n1", "1"]).get_json()["response"][quality_ui.BODY]["children"]
    assert "120 V · 60 Hz" in str(texts(tree, "node-quality-table"))


@pytest.mark.parametrize("node", ["n2", "../n1", None, 7, {"a": 1}])
def test_someone_elses_or_a_bad_node_shows_nothing(seeded: dict[str, Any], dash: DashClient, node: Any) -> None:
    answer = dash.call(BODY, [node, "1"]).get_json()["response"]
    assert answer[quality_ui.BODY]["children"] is None and answer[quality_ui.DOWNLOAD]["href"] is None


@pytest.mark.parametrize("week", ["99", "-1", None, "x", True, 3.5])
def test_an_unreadable_week_means_this_week(seeded: dict[str, Any], dash: DashClient, week: Any) -> None:
    tree = dash.call(BODY, ["n1", week]).get_json()["response"][quality_ui.BODY]["children"]
    assert texts(tree, "node-quality-verdict") == ["Not enough readings"]


def test_the_csv_has_one_row_per_week(seeded: dict[str, Any], client: FlaskClient) -> None:
    resp = client.get("/enertrack/nodes/n1/power-quality.csv?weeks=2")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["verdict"] for r in rows] == ["within", "insufficient_data"]
    assert (rows[0]["dips"], rows[0]["dip_seconds"], rows[0]["partial"], rows[1]["partial"]) == ("1", "120", "false", "true")


@pytest.mark.parametrize(("url", "status"), [
    ("/enertrack/nodes/n1/power-quality.csv?weeks=0", 400),
    ("/enertrack/nodes/n1/power-quality.csv?weeks=53", 400),
    ("/enertrack/nodes/n1/power-quality.csv?weeks=abc", 400),
    ("/enertrack/nodes/n2/power-quality.csv", 404),
])
def test_the_csv_refuses_bad_requests_clearly(seeded: dict[str, Any], client: FlaskClient, url: str, status: int) -> None:
    resp = client.get(url)
    assert resp.status_code == status
    assert resp.get_data(as_text=True).strip()


def test_bob_cannot_download_anas_report(app: Flask, client: FlaskClient, dash: DashClient, seeded: dict[str, Any]) -> None:
    other = app.test_client()
    assert login(other, DashClient(other, app.extensions["dash_app"]), "bob").status_code == 303
    assert other.get("/enertrack/nodes/n1/power-quality.csv").status_code == 404


def test_the_node_page_holds_the_card_and_the_store_it_reads(app: Flask) -> None:
    import dash

    page = next(p for p in dash.page_registry.values() if p["path_template"] == "/nodes/<node_id>")
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list | tuple):
            for item in node:
                walk(item)
        elif hasattr(node, "to_plotly_json"):
            if isinstance(getattr(node, "id", None), str):
                found.add(node.id)
            walk(getattr(node, "children", None))

    walk(page["layout"](node_id="n1", lang="en"))
    assert {quality_ui.NODE_STORE, quality_ui.WEEK, quality_ui.BODY, quality_ui.DOWNLOAD} <= found


def test_every_new_user_starts_with_one_site(app: Flask, seeded: dict[str, Any]) -> None:
    with app.extensions["enertrack"].read() as db:
        assert [(s.name, s.node_ids) for s in sites.list_sites(db, seeded["uid"])] == [("Main", ("n1",))]
        assert db.query(Site).count() == 2  # ana's and bob's


def test_a_finished_week_is_read_once_and_the_running_week_every_time(app: Flask, seeded: dict[str, Any],
                                                                       dash: DashClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = app.extensions["enertrack"].store
    read = store.readings
    starts: list[int] = []
    monkeypatch.setattr(store, "readings",
                        lambda node_id, start, end: starts.append(start) or read(node_id, start, end))
    for week in ("1", "1", "0", "0"):
        assert dash.call(BODY, ["n1", week]).status_code == 200
    assert starts.count(seeded["start"]) == 1  # last week: kept
    assert starts.count(seeded["end"]) == 2  # this week: judged up to now each time


def test_a_node_id_taken_again_by_someone_else_never_gets_the_kept_report(app: Flask, seeded: dict[str, Any],
                                                                         dash: DashClient) -> None:
    assert texts(dash.call(BODY, ["n1", "1"]).get_json()["response"][quality_ui.BODY]["children"],
                 "node-quality-verdict") == ["Within the limits"]  # ana's last week, now kept
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.delete_node(db, services.store, seeded["uid"], "n1")
        bob = db.query(User).filter_by(username="bob").one().id
        nodes.create_node(db, bob, {"node_id": "n1", "interval_s": STEP})
    other = app.test_client()
    bobs = DashClient(other, app.extensions["dash_app"])
    assert login(other, bobs, "bob").status_code == 303
    tree = bobs.call(BODY, ["n1", "1"]).get_json()["response"][quality_ui.BODY]["children"]
    assert texts(tree, "node-quality-verdict") == ["Not enough readings"]
