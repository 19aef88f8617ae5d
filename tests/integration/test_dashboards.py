"""Panel and analysis through their callbacks, on a known dataset."""

from __future__ import annotations

import base64
import json
import time
from datetime import date, timedelta

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.calendar import today
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import DashClient

PANEL = "panel-updated.children"
ANALYSIS = "analysis-chart.figure"


def ok(resp) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.data[:400]
    return resp.get_json()["response"]


def seed(app: Flask, client: FlaskClient, dash: DashClient, tz: str = "UTC", language: str = "es") -> int:
    uid = create_user(app, "ana", timezone=tz, language=language)
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        for node, interval in (("a-live", 10), ("b-live", 10), ("c-old", 10), ("d-new", 10)):
            nodes.create_node(db, uid, {"node_id": node, "description": f"desc {node}", "interval_s": interval})
    now = int(time.time())
    services.store.write([
        Reading("a-live", now - 3, voltage=230.0, current=2.0, power=400.0, energy=10.0, power_factor=0.9, frequency=50.0),
        Reading("b-live", now - 5, voltage=232.0, current=4.0, power=800.0, energy=20.0, power_factor=0.8, frequency=50.1),
        Reading("c-old", now - 3600, voltage=100.0, current=90.0, power=9000.0, energy=1.0, power_factor=0.1, frequency=45.0),
    ])
    login(client, dash, "ana")
    return uid


def card_value(response: dict, name: str) -> str:
    return response[f"panel-kpi-{name}"]["children"]


def node_statuses(response: dict) -> dict[str, str]:
    """Each node row's status badge class, by node id, in the panel's order."""
    rows = {r["props"]["id"]["node"]: r for r in response["panel-nodes-body"]["children"]}
    return {node: row["props"]["children"][0]["props"]["children"]["props"]["class_name"] for node, row in rows.items()}


def test_panel_averages_active_nodes_and_shows_statuses(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    seed(app, client, dash)
    first = ok(dash.call(PANEL, [0, "all"]))
    # Spanish numbers, the default: decimals after a comma, thousands grouped with a dot.
    assert card_value(first, "voltage") == "231,0"  # (230 + 232) / 2; the old node is left out
    assert card_value(first, "current") == "3,00"
    assert card_value(first, "power") == "600"
    assert card_value(first, "power_factor") == "0,85"
    assert card_value(first, "frequency") == "50,05"
    assert card_value(first, "total_power") == "1.200" and first["panel-kpi-unit-total_power"]["children"] == "W"
    assert first["panel-updated"]["children"].startswith("Actualizado hace")
    status = node_statuses(first)
    assert list(status) == ["a-live", "b-live", "c-old", "d-new"]
    assert "node-status-active" in status["a-live"] and "node-status-active" in status["b-live"]
    assert "node-status-disconnected" in status["c-old"] and "node-status-no_data" in status["d-new"]
    assert first["panel-empty"]["is_open"] is False


def test_panel_ticks_set_numbers_in_place_instead_of_redrawing(app: Flask, client: FlaskClient,
                                                                dash: DashClient) -> None:
    seed(app, client, dash)
    shown = ["a-live", "b-live", "c-old", "d-new"]
    app.extensions["enertrack"].store.write([Reading("a-live", int(time.time()), voltage=230.0, current=2.0,
                                                     power=1400.0, energy=10.0, power_factor=0.9, frequency=50.0)])
    tick = ok(dash.call(PANEL, [1, "all"], pattern_ids=dash.on_page(PANEL, "node", shown)))
    assert "panel-nodes-body" not in tick and "panel-kpis" not in tick  # no component is replaced
    assert card_value(tick, "power") == "1.100" and card_value(tick, "total_power") == "2.200"
    cells = {key: value for key, value in tick.items() if key.startswith("{")}
    power = {json.loads(key)["node"]: value["children"] for key, value in cells.items()
             if json.loads(key)["cell"] == "power"}
    assert power == {"a-live": "1.400 W", "b-live": "800 W", "c-old": "—", "d-new": "—"}
    badges = {json.loads(key)["node"]: value for key, value in cells.items() if json.loads(key)["cell"] == "status"}
    assert badges["c-old"] == {"color": "danger", "class_name": "node-status node-status-disconnected"}

    # Another node appears: the rows are rebuilt once, with it.
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, seed_owner(app), {"node_id": "e-added", "interval_s": 10})
    grown = ok(dash.call(PANEL, [2, "all"], pattern_ids=dash.on_page(PANEL, "node", shown)))
    assert [r["props"]["id"]["node"] for r in grown["panel-nodes-body"]["children"]] == [*shown, "e-added"]
    assert not any(key.startswith("{") for key in grown)  # the old rows' cells are left to the new rows


def seed_owner(app: Flask) -> int:
    from sqlalchemy import select

    from enertrack.models import User

    with app.extensions["enertrack"].read() as db:
        return db.scalars(select(User.id).where(User.username == "ana")).one()


def test_panel_numbers_in_english(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    seed(app, client, dash, language="en")
    first = ok(dash.call(PANEL, [0, "all"]))
    assert [card_value(first, name) for name in ("voltage", "current", "power_factor", "total_power")] == [
        "231.0", "3.00", "0.85", "1,200"]
    assert first["panel-updated"]["children"].startswith("Updated")


def test_panel_with_no_nodes_says_how_to_start(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    login(client, dash, "ana")
    result = ok(dash.call(PANEL, [0, "all"]))
    assert result["panel-empty"]["is_open"] is True and result["panel-nodes"]["style"] == {"display": "none"}


def test_panel_energy_today(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # The readings span the last 30 minutes: pick a zone where they all fall on today's local date
    # (Kathmandu's +05:45 by preference; New York is 10 h 45 min away, so one of them always is).
    zone = next(tz for tz in ("Asia/Kathmandu", "America/New_York")
                if (lambda local: local.hour * 60 + local.minute >= 32)(datetime.now(ZoneInfo(tz))))
    uid = create_user(app, "ana", timezone=zone)
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": 60})
    now = int(time.time())
    services.store.write([Reading("n1", now - 1800 + 60 * i, power=2000.0, energy=i / 30) for i in range(30)],
                         {"n1": EnergyParams(60)})
    login(client, dash, "ana")
    result = ok(dash.call(PANEL, [0, "all"]))
    assert card_value(result, "energy_today") == "0,97"  # 29 increments of 1/30 kWh, all of them today


def test_panel_offline_status_after_the_last_reading_disconnects(app: Flask, client: FlaskClient,
                                                                 dash: DashClient) -> None:
    from enertrack.ingest.payload import StatusUpdate
    from enertrack.ingest.users_db import record

    seed(app, client, dash)
    services = app.extensions["enertrack"]
    now = time.time()
    # The node's Last Will after its last reading: disconnected at once, though the reading is fresh.
    record(services.sessions, [], [StatusUpdate("a-live", "offline", now)])
    status = node_statuses(ok(dash.call(PANEL, [0, "all"])))
    assert "node-status-disconnected" in status["a-live"] and "node-status-active" in status["b-live"]
    # A reading after the announcement makes it active again.
    services.store.write([Reading("a-live", int(now) + 1, power=400.0)])
    assert "node-status-active" in node_statuses(ok(dash.call(PANEL, [0, "all"])))["a-live"]


def values(array: object) -> list[float]:
    """Plotly sends numeric arrays base64-encoded ({dtype, bdata}); decode them."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)  # type: ignore[arg-type]


def stats(response: dict) -> str:
    return str(response["analysis-stats"]["children"])


def test_analysis_by_day_with_statistics(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = create_user(app, "ana", timezone="UTC")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "a", "interval_s": 60})
        nodes.create_node(db, uid, {"node_id": "b", "interval_s": 60})
    from datetime import UTC, datetime

    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    services.store.write([Reading("a", start + 60 * i, energy=i / 60) for i in range(3 * 1440 + 1)],  # 1 kW
                         {"a": EnergyParams(60)})
    services.store.write([Reading("b", start + 86400 + 60 * i, energy=i / 20) for i in range(1440 + 1)],  # 3 kW, day 2
                         {"b": EnergyParams(60)})
    login(client, dash, "ana")
    result = ok(dash.call(ANALYSIS, ["day", "2026-01-01", "2026-01-03", None, "light", "all"]))
    figure = result["analysis-chart"]["figure"]
    bars = {trace["name"]: values(trace["y"]) for trace in figure["data"] if trace["type"] == "bar"}
    assert bars["a"] == pytest.approx([24.0, 24.0, 24.0]) and bars["b"] == pytest.approx([0.0, 72.0, 0.0])
    text = stats(result)
    assert "144,0 kWh" in text  # 72 + 72, in Spanish
    assert "48,00 kWh" in text  # average per period
    assert "96,00 kWh" in text and "2026-01-02" in text  # the peak day
    assert "50,0 %" in text  # each node's share
    assert result["analysis-chart"]["figure"]["layout"]["separators"] == ",."
    only_b = ok(dash.call(ANALYSIS, ["day", "2026-01-01", "2026-01-03", ["b", "someone-elses"], "dark", "all"]))
    assert [t["name"] for t in only_b["analysis-chart"]["figure"]["data"] if t["type"] == "bar"] == ["b"]
    assert only_b["analysis-chart"]["figure"]["layout"]["template"]["layout"]["paper_bgcolor"] is not None
    csv = ok(dash.call("analysis-download.data", [1], ["day", "2026-01-01", "2026-01-02", ["a"], "all"]))
    assert csv["analysis-download"]["data"]["content"] == (
        "period_start,node_id,energy_kwh\n2026-01-01T00:00:00+00:00,a,24.000\n2026-01-02T00:00:00+00:00,a,24.000\n")


def test_analysis_statistics_in_english(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from datetime import UTC, datetime

    from enertrack.web.services import accounts

    uid = create_user(app, "ana", timezone="UTC", language="en")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "a", "interval_s": 60})
        accounts.update_tariff(db, uid, "0.2", "EUR")
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    services.store.write([Reading("a", start + 60 * i, energy=i / 2) for i in range(2 * 1440 + 1)],  # 30 kW
                         {"a": EnergyParams(60)})
    login(client, dash, "ana")
    result = ok(dash.call(ANALYSIS, ["day", "2026-01-01", "2026-01-02", None, "light", "all"]))
    text = stats(result)
    assert "1,440.0 kWh" in text and "720.0 kWh" in text and "288.00 EUR" in text and "100.0 %" in text
    assert result["analysis-chart"]["figure"]["layout"]["separators"] == ".,"


def test_analysis_explains_bad_ranges(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    login(client, dash, "ana")
    cases = {
        ("day", "2026-01-05", "2026-01-04"): "no puede ser anterior a la de inicio",
        ("hour", "2025-01-01", "2026-01-01"): "demasiadas barras",
        ("fortnight", "2026-01-01", "2026-01-02"): "Elige hora, día, mes o año",
        ("day", "yesterday", None): "Elige una fecha",
    }
    for (period, start, end), message in cases.items():
        result = ok(dash.call(ANALYSIS, [period, start, end, None, "light", "all"]))
        assert result["analysis-message"]["is_open"] is True and message in result["analysis-message"]["children"]


def test_period_defaults(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana", timezone="Asia/Kathmandu")
    login(client, dash, "ana")
    local = today("Asia/Kathmandu")
    month = ok(dash.call("analysis-range.start_date", ["month"], [None]))
    # The picker shows the last day of the range, both ends included: 1 January to 31 December.
    assert month["analysis-range"] == {"start_date": date(local.year, 1, 1).isoformat(),
                                       "end_date": date(local.year, 12, 31).isoformat()}
    day = ok(dash.call("analysis-range.start_date", ["day"], [None]))
    assert day["analysis-range"] == {"start_date": (local - timedelta(days=29)).isoformat(),
                                     "end_date": local.isoformat()}  # 30 days, today the last


def test_analysis_shows_costs_with_a_tariff(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from enertrack.web.services import accounts

    uid = create_user(app, "ana", timezone="UTC")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "a", "interval_s": 60})
        accounts.update_tariff(db, uid, "0.2", "EUR")
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    services.store.write([Reading("a", start + 60 * i, energy=i / 60) for i in range(1440 + 1)], {"a": EnergyParams(60)})
    login(client, dash, "ana")
    result = ok(dash.call(ANALYSIS, ["day", "2026-01-01", "2026-01-01", None, "light", "all"]))
    assert "4,80 EUR" in stats(result)  # 24 kWh x 0.20, in Spanish
    assert "EUR" in str(result["analysis-chart"]["figure"]["data"][0]["hovertemplate"])
    with services.read() as db:
        assert accounts.tariff(db, uid) == (float(Decimal("0.2")), "EUR")
