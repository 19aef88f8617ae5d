"""The Sites page through HTTP: add and change sites, move nodes, add tariffs; never anyone else's."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.models import Node, Site, SiteTariff
from enertrack.web.services import nodes, sites
from tests.conftest import create_user, login
from tests.dash_client import DashClient

SITE_FIELDS = ("name", "contracted_kw", "contracted_valle_kw", "nominal_voltage", "nominal_frequency", "billing_day")


@pytest.fixture
def world(app: Flask, client: FlaskClient, dash: DashClient) -> dict[str, int]:
    ana = create_user(app, "ana", language="en")
    bob = create_user(app, "bob", language="en")
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, ana, {"node_id": "a1", "interval_s": 10})
        nodes.create_node(db, bob, {"node_id": "b1", "interval_s": 10})
        bob_site = sites.ensure_site(db, bob).id
    assert login(client, dash, "ana").status_code == 303
    return {"ana": ana, "bob": bob, "bob_site": bob_site}


def _msg(dash: DashClient, fragment: str, inputs: list[Any], state: list[Any]) -> str:
    resp = dash.call(fragment, inputs, state)
    assert resp.status_code == 200, resp.data[:300]
    return str(resp.get_json()["response"])


def test_add_a_site_move_a_node_and_price_it(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    text = _msg(dash, "sites-site-message.children", [1], ["new", "Bakery", "6,9", "3.3", "", "50", "15"])
    assert "Site Bakery saved." in text
    with app.extensions["enertrack"].read() as db:
        bakery = db.query(Site).filter_by(owner_id=world["ana"], name="Bakery").one()
        assert (bakery.contracted_kw, bakery.contracted_valle_kw, bakery.nominal_frequency, bakery.billing_day) == (
            6.9, 3.3, 50.0, 15)
    assert "Node moved." in _msg(dash, "sites-move-message.children", [1], ["a1", str(bakery.id)])
    text = _msg(dash, "sites-tariff-message.children", [1],
                [str(bakery.id), "2026-06-01", "es-2.0td", "0.25", "0.15", "0.08", "0.09", "0.003", "0"])
    assert "Tariff from 2026-06-01 saved." in text
    with app.extensions["enertrack"].read() as db:
        assert db.query(Node).filter_by(node_id="a1").one().site_id == bakery.id
        tariff = db.query(SiteTariff).filter_by(site_id=bakery.id).one()
        assert (tariff.kind, float(tariff.price_punta), float(tariff.price_valle)) == ("es-2.0td", 0.25, 0.08)
    listing = str(dash.call("sites-list.children", [True, None, None, None, None]).get_json()["response"])
    assert "Bakery" in listing and "a1" in listing and "2026-06-01" in listing and "b1" not in listing


@pytest.mark.parametrize(("values", "expected"), [
    (["", "", "", "", "", ""], "Name: required."),
    (["X", "abc", "", "", "", ""], "write a number"),
    (["X", "", "", "", "55", ""], "50 or 60"),
    (["X", "", "", "", "", "31"], "out of range"),
    (["Main", "", "", "", "", ""], "You already have a site with that name."),
])
def test_a_bad_site_form_says_what_to_fix(world: dict[str, int], dash: DashClient, values: list[str],
                                          expected: str) -> None:
    assert expected in _msg(dash, "sites-site-message.children", [1], ["new", *values])


def test_a_2td_tariff_needs_its_three_prices(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        main = sites.ensure_site(db, world["ana"]).id
    text = _msg(dash, "sites-tariff-message.children", [1], [str(main), "2026-13-01", "es-2.0td", "", "0.15", "",
                                                             "", "", ""])
    assert "a date like 2026-01-01" in text and "Price per kWh, punta: required." in text


def test_bobs_site_and_node_are_out_of_reach(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    bob_site = str(world["bob_site"])
    assert "Choose one of your nodes" in _msg(dash, "sites-move-message.children", [1], ["b1", bob_site])
    assert "Choose one of your nodes" in _msg(dash, "sites-move-message.children", [1], ["a1", bob_site])
    assert "Choose one of your sites." in _msg(dash, "sites-tariff-message.children", [1],
                                               [bob_site, "2026-01-01", "flat", "", "0.1", "", "", "", ""])
    assert "does not exist" in _msg(dash, "sites-site-message.children", [1], [bob_site, "Mine", "", "", "", "", ""])
    filled = dash.call("sites-name.value", [bob_site]).get_json()["response"]
    assert filled["sites-name"]["value"] == ""
    with app.extensions["enertrack"].read() as db:
        assert db.get(Site, world["bob_site"]).name == "Main"
        assert db.query(SiteTariff).count() == 0
        assert db.query(Node).filter_by(node_id="b1").one().site_id == world["bob_site"]


def test_a_node_gets_a_nominal_supply_of_its_own(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    assert "Nominal supply of a1 saved." in _msg(dash, "sites-nominal-message.children", [1], ["a1", "120", "60"])
    with app.extensions["enertrack"].read() as db:
        node = db.query(Node).filter_by(node_id="a1").one()
        assert (node.nominal_voltage, node.nominal_frequency) == (120.0, 60.0)
    assert "50 or 60" in _msg(dash, "sites-nominal-message.children", [1], ["a1", "120", "55"])
    assert "Choose one of your nodes." in _msg(dash, "sites-nominal-message.children", [1], ["b1", "", ""])
    assert "saved" in _msg(dash, "sites-nominal-message.children", [1], ["a1", "", ""])
    with app.extensions["enertrack"].read() as db:
        node = db.query(Node).filter_by(node_id="a1").one()
        assert (node.nominal_voltage, node.nominal_frequency) == (None, None)
        assert db.query(Node).filter_by(node_id="b1").one().nominal_voltage is None
