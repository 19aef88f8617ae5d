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
    listing = str(dash.call("sites-list.children", [True, None, None, None, None, 0]).get_json()["response"])
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


ASK = "sites-delete-text.children"  # a site's or a tariff's delete button: the confirmation
CONFIRM = "sites-refresh.data"  # the confirmation's Delete button


def _ask(dash: DashClient, kind: str, ident: Any) -> dict[str, Any]:
    button = {"type": kind, "id": ident}
    values = [1, None, 0] if kind == "sites-delete" else [None, 1, 0]
    resp = dash.call(ASK, values, pattern_ids={0 if kind == "sites-delete" else 1: [button]},
                     triggered=0 if kind == "sites-delete" else 1)
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]


def _confirm(dash: DashClient, pending: Any, target: Any = None) -> str:
    resp = dash.call(CONFIRM, [1], [pending, target, 0])
    assert resp.status_code == 200, resp.data[:300]
    answer = resp.get_json()["response"]
    assert answer["sites-delete-modal"]["is_open"] is False
    return str(answer["toasts"]["children"])


def _tariff(app: Flask, site_id: int, day: str, price: str) -> int:
    from datetime import date
    from decimal import Decimal

    with app.extensions["enertrack"].transaction() as db:
        row = SiteTariff(site_id=site_id, valid_from=date.fromisoformat(day), kind="flat", price_llano=Decimal(price))
        db.add(row)
        db.flush()
        return row.id


def test_deleting_a_site_asks_and_moves_its_nodes_to_the_one_chosen(app: Flask, world: dict[str, int],
                                                                      dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, world["ana"], {"node_id": "a2", "interval_s": 10})
        main = sites.ensure_site(db, world["ana"]).id
        bakery = sites.save_site(db, world["ana"], {"name": "Bakery"}).id
        garage = sites.save_site(db, world["ana"], {"name": "Garage"}).id
        sites.move_node(db, world["ana"], "a1", bakery)
        sites.move_node(db, world["ana"], "a2", bakery)
    _tariff(app, bakery, "2026-01-01", "0.2")
    asked = _ask(dash, "sites-delete", bakery)
    assert asked["sites-delete-modal"]["is_open"] is True
    assert "Delete site Bakery?" in str(asked["sites-delete-text"]["children"]) and "a1, a2" in str(asked)
    # Every other site is offered, the first remaining one chosen by default.
    assert asked["sites-delete-target"]["options"] == [{"label": "Main", "value": str(main)},
                                                       {"label": "Garage", "value": str(garage)}]
    assert asked["sites-delete-target"]["value"] == str(main)
    assert asked["sites-delete-pending"]["data"] == {"kind": "site", "id": bakery}
    text = _confirm(dash, {"kind": "site", "id": bakery}, str(garage))
    assert "Site Bakery deleted. Nodes moved to Garage: 2." in text
    with app.extensions["enertrack"].read() as db:
        assert db.get(Site, bakery) is None and db.query(SiteTariff).filter_by(site_id=bakery).count() == 0
        assert {n.node_id: n.site_id for n in db.query(Node).filter_by(owner_id=world["ana"])} == {
            "a1": garage, "a2": garage}


def test_the_first_site_goes_with_its_unassigned_nodes_to_the_default(app: Flask, world: dict[str, int],
                                                                      dash: DashClient) -> None:
    with app.extensions["enertrack"].transaction() as db:
        main = sites.ensure_site(db, world["ana"]).id
        db.query(Node).filter_by(node_id="a1").one().site_id = None  # an older node: the first site's
        shop = sites.save_site(db, world["ana"], {"name": "Shop"}).id
    assert "Nodes moved to Shop: 1." in _confirm(dash, {"kind": "site", "id": main})  # no target: the default
    with app.extensions["enertrack"].read() as db:
        assert db.query(Node).filter_by(node_id="a1").one().site_id == shop
        assert [s.name for s in sites.list_sites(db, world["ana"])] == ["Shop"]


def test_the_last_site_cannot_be_deleted(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        main = sites.ensure_site(db, world["ana"]).id
    asked = _ask(dash, "sites-delete", main)
    assert "only site, so it cannot be deleted" in str(asked["toasts"])
    assert "sites-delete-modal" not in asked  # no confirmation for what cannot be done
    assert "only site" in _confirm(dash, {"kind": "site", "id": main})  # a forged confirmation: the same answer
    with app.extensions["enertrack"].read() as db:
        assert db.get(Site, main) is not None


def test_deleting_a_tariff_change_lets_the_one_before_continue(app: Flask, world: dict[str, int],
                                                               dash: DashClient) -> None:
    with app.extensions["enertrack"].read() as db:
        main = sites.ensure_site(db, world["ana"]).id
    first = _tariff(app, main, "2026-01-01", "0.2")
    change = _tariff(app, main, "2026-06-01", "0.3")
    asked = _ask(dash, "sites-tariff-delete", change)
    assert "from 2026-06-01" in str(asked["sites-delete-text"]["children"])
    assert asked["sites-delete-target-row"]["style"] == {"display": "none"}
    assert "Tariff from 2026-06-01 deleted" in _confirm(dash, {"kind": "tariff", "id": change})
    refused = _ask(dash, "sites-tariff-delete", first)
    assert "first tariff, so it cannot be deleted" in str(refused["toasts"])
    assert "first tariff" in _confirm(dash, {"kind": "tariff", "id": first})
    with app.extensions["enertrack"].read() as db:
        assert [t.id for t in db.query(SiteTariff).filter_by(site_id=main)] == [first]


def test_bobs_site_and_tariff_cannot_be_deleted_by_ana(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    bobs_tariff = _tariff(app, world["bob_site"], "2026-01-01", "0.2")
    later = _tariff(app, world["bob_site"], "2026-06-01", "0.3")
    with app.extensions["enertrack"].transaction() as db:
        mine = sites.ensure_site(db, world["ana"]).id
        sites.save_site(db, world["ana"], {"name": "Second"})
    for kind, ident in (("sites-delete", world["bob_site"]), ("sites-tariff-delete", later),
                        ("sites-tariff-delete", "1 OR 1=1")):
        asked = _ask(dash, kind, ident)
        assert "no longer exists" in str(asked["toasts"]) and "sites-delete-modal" not in asked
    assert "sites-delete-modal" not in _ask(dash, "sites-delete", {"x": 1})  # not even an id: nothing opens
    for pending, target in (({"kind": "site", "id": world["bob_site"]}, None),
                            ({"kind": "site", "id": mine}, str(world["bob_site"])),
                            ({"kind": "tariff", "id": later}, None), ({"kind": "other", "id": 1}, None),
                            ({"kind": "site", "id": [1]}, None)):
        assert "Choose one of your sites." in _confirm(dash, pending, target)
    with app.extensions["enertrack"].read() as db:
        assert db.get(Site, world["bob_site"]) is not None and db.get(Site, mine) is not None
        assert db.query(SiteTariff).filter_by(site_id=world["bob_site"]).count() == 2 and bobs_tariff
        assert db.query(Node).filter_by(node_id="b1").one().site_id == world["bob_site"]
        assert db.query(Node).filter_by(node_id="a1").one().site_id in (None, mine)


def test_deleting_speaks_spanish(app: Flask, world: dict[str, int], dash: DashClient) -> None:
    from enertrack.models import User

    with app.extensions["enertrack"].transaction() as db:
        db.get(User, world["ana"]).language = "es"
        main = sites.ensure_site(db, world["ana"]).id
    client = app.test_client()
    spanish = DashClient(client, app.extensions["dash_app"])
    assert login(client, spanish, "ana").status_code == 303
    assert "Es tu único suministro, así que no se puede borrar" in str(_ask(spanish, "sites-delete", main)["toasts"])


def test_every_field_of_the_page_has_a_label(app: Flask) -> None:
    import dash
    import dash_bootstrap_components as dbc

    # From Dash's registry: importing pages.sites here would register the page a second time.
    page = next(p for p in dash.page_registry.values() if p["path"] == "/sites")

    def walk(component: Any) -> Any:
        yield component
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                yield from walk(child)

    with app.test_request_context():
        found = list(walk(page["layout"](lang="en")))
    labelled = {getattr(c, "html_for", None) for c in found if isinstance(c, dbc.Label)}
    fields = {c.id for c in found if isinstance(c, dbc.Select | dbc.Input)}
    # The site editor's own selector is its card's title ("New site" or the site's name).
    assert fields - labelled == {"sites-edit"}, fields - labelled
