"""The panel's chart of today: power (total and per node) and energy by hour, patched live."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.web.services import nodes
from enertrack.web.services.panel_today import BUCKET_S, day_marks
from tests.conftest import create_user, login
from tests.dash_client import DashClient

TODAY = "panel-today.figure...panel-today-state"


def zone_with_room() -> str:
    """A timezone where the last 40 minutes all fall on today's local date."""
    return next(tz for tz in ("Asia/Kathmandu", "America/New_York")
                if (lambda local: local.hour * 60 + local.minute >= 42)(datetime.now(ZoneInfo(tz))))


def call(dash: DashClient, state: Any = None) -> tuple[Any, Any]:
    """POST the chart's callback as a tick does; (figure or patch, new state)."""
    resp = dash.call(TODAY, [1], [state, "light"])
    assert resp.status_code == 200, resp.data[:300]
    out = resp.get_json()["response"]
    return out["panel-today"]["figure"], out["panel-today-state"]["data"]


@pytest.fixture
def seeded(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, Any]:
    """ana's nodes a (2 kW) and b (500 W) over the last 30 minutes, every minute."""
    tz = zone_with_room()
    uid = create_user(app, "ana", timezone=tz)
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        for node in ("a", "b"):
            nodes.create_node(db, uid, {"node_id": node, "interval_s": 60})
    now = int(time.time()) // 60 * 60
    services.store.write([Reading(node, now - 1800 + 60 * i, power=watts, energy=i * watts / 60_000)
                          for node, watts in (("a", 2000.0), ("b", 500.0)) for i in range(30)],
                         {"a": EnergyParams(60), "b": EnergyParams(60)})
    assert login(client, dash, "ana").status_code == 303
    return {"tz": tz, "now": now, "store": services.store}


def test_today_draws_total_and_each_node_over_energy_by_hour(seeded: dict[str, Any], dash: DashClient) -> None:
    figure, state = call(dash)
    total, a, b, bars = figure["data"]
    assert [total["name"], a["name"], b["name"]] == ["Total", "a", "b"]
    marks = day_marks(seeded["tz"], time.time())
    assert state["nodes"] == ["a", "b"] and state["day"] == marks[0]
    assert (state["last"] - marks[0]) % BUCKET_S == 0 and len(total["x"]) == (state["last"] - marks[0]) // BUCKET_S + 1
    # x is the local wall clock in ms (what a date axis shows as is): midnight is a whole day in ms.
    assert total["x"][0] % 86_400_000 == 0
    # Mean power per quarter from the energy used: a whole quarter inside the 30 minutes is exact,
    # the quarters at its edges are partly covered; before it, nothing was used.
    rows = list(zip(a["y"], b["y"], total["y"], strict=True))
    assert (2000.0, 500.0, 2500.0) in rows, rows[-4:]
    assert all(yt == pytest.approx(ya + yb, abs=0.2) and ya <= 2000.5 and yb <= 500.5 for ya, yb, yt in rows)
    assert rows[0] == (0.0, 0.0, 0.0) or len(rows) <= 3
    assert bars["type"] == "bar" and len(bars["y"]) == len(marks) - 1
    assert sum(bars["y"]) == pytest.approx(29 * 2500 / 60_000, abs=1e-3)  # 29 minutes of 2.5 kW


def test_a_tick_patches_the_newest_buckets(seeded: dict[str, Any], dash: DashClient) -> None:
    figure, state = call(dash)
    points = len(figure["data"][0]["x"])
    seeded["store"].write([Reading("a", seeded["now"] + 30, power=3000.0, energy=1.0)])
    patch, again = call(dash, state)
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    ops = patch["operations"]
    # The last bucket drawn was still filling: it goes, and the buckets from it on come again.
    assert {"operation": "Delete", "location": ["data", 0, "x", points - 1], "params": {}} in ops
    extended = [op for op in ops if op["operation"] == "Extend" and op["location"] == ["data", 0, "y"]]
    assert len(extended) == 1 and len(extended[0]["params"]["value"]) == (again["last"] - state["last"]) // BUCKET_S + 1
    assert any(op["operation"] == "Assign" and op["location"] == ["data", 3, "y"] for op in ops)
    assert again["day"] == state["day"] and again["last"] >= state["last"]


@pytest.mark.parametrize("forge", [
    lambda s: {**s, "nodes": ["a", "b", "someone-elses"]},
    lambda s: {**s, "day": s["day"] - 86400},
    lambda s: {**s, "last": s["last"] + 1},
    lambda s: {**s, "last": s["last"] + 10 * BUCKET_S},
    lambda s: {**s, "last": True},
    lambda s: "garbage",
])
def test_a_state_that_does_not_match_redraws(seeded: dict[str, Any], dash: DashClient, forge: Any) -> None:
    _figure, state = call(dash)
    redrawn, _ = call(dash, forge(state))
    assert "data" in redrawn and "__dash_patch_update" not in redrawn


def test_no_nodes_draws_an_empty_day(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana", timezone="UTC")
    login(client, dash, "ana")
    figure, state = call(dash)
    assert state["nodes"] == [] and all(v == 0 for v in figure["data"][0]["y"])
    assert np.allclose(figure["data"][-1]["y"], 0)
