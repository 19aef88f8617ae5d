"""The nodes page through its callbacks: add, validate as you type, edit, delete with readings."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.reading import Reading
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import DashClient

FORM = "node-form-modal.is_open"
VALIDATE = "node-form-node_id.invalid"
DELETE = "node-delete-modal.is_open"


def response(resp) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]


def save(dash: DashClient, mode: object, node_id: str, description: str = "", location: str = "",
         interval: object = 10, max_power: object = None):  # type: ignore[no-untyped-def]
    return dash.call(FORM, [0, [], 0, 1], [mode, node_id, description, location, interval, max_power, 0],
                     triggered=3)


def logged_in(app: Flask, client: FlaskClient, dash: DashClient, name: str = "ana", lang: str = "es") -> int:
    uid = create_user(app, name, language=lang)
    login(client, dash, name)
    return uid


def test_add_then_list(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    logged_in(app, client, dash)
    opened = response(dash.call(FORM, [1, [], 0, 0], [None, None, None, None, None, None, 0]))
    assert opened["node-form-modal"]["is_open"] is True
    assert opened["node-form-mode"]["data"] == {"mode": "add"}
    saved = response(save(dash, {"mode": "add"}, "casa-01", "Cocina", "Madrid", 15))
    assert saved["node-form-modal"]["is_open"] is False
    assert "Nodo casa-01 añadido" in str(saved["toasts"]["children"])
    table = str(response(dash.call("nodes-table.children", [1])))
    assert "casa-01" in table and "Cocina" in table and "15 s" in table


def test_validation_as_you_type(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = logged_in(app, client, dash)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "taken", "interval_s": 10})
    cases = {
        "bad id!": "Usa de 1 a 64 letras",
        "taken": "Ese ID de nodo ya existe",
        "x" * 65: "Usa de 1 a 64 letras",
    }
    for node_id, message in cases.items():
        result = response(dash.call(VALIDATE, [node_id, "", "", 10, None], [{"mode": "add"}]))
        assert result["node-form-node_id"]["invalid"] is True
        assert message in result["node-form-node_id-feedback"]["children"]
        assert result["node-form-save"]["disabled"] is True
    long = response(dash.call(VALIDATE, ["ok-id", "d" * 201, "l" * 121, 0, None], [{"mode": "add"}]))
    assert long["node-form-description"]["invalid"] and long["node-form-location"]["invalid"]
    assert "entre 1 y 86400" in long["node-form-interval_s-feedback"]["children"]
    good = response(dash.call(VALIDATE, ["casa-02", "Salón", "", 10, None], [{"mode": "add"}]))
    assert good["node-form-save"]["disabled"] is False
    assert not any(good[f"node-form-{f}"]["invalid"] for f in ("node_id", "description", "location", "interval_s"))


def test_messages_follow_the_users_language(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    logged_in(app, client, dash, lang="en")
    result = response(dash.call(VALIDATE, ["bad id!", "", "", 10, None], [{"mode": "add"}]))
    assert "Use 1 to 64 letters" in result["node-form-node_id-feedback"]["children"]


def test_duplicate_on_save_says_it_already_exists(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = logged_in(app, client, dash)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "taken", "interval_s": 10})
    result = response(save(dash, {"mode": "add"}, "taken"))
    assert "ya existe" in str(result["toasts"]["children"])


def test_edit_keeps_the_id_and_saves_the_rest(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = logged_in(app, client, dash)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "description": "old", "interval_s": 10})
    opened = response(dash.call(FORM, [0, [1], 0, 0], [None, None, None, None, None, None, 0],
                                pattern_ids={1: [{"type": "node-edit", "node": "n1"}]}, triggered=1))
    assert opened["node-form-node_id"] == {"value": "n1", "disabled": True}
    assert opened["node-form-description"]["value"] == "old"
    result = response(save(dash, {"mode": "edit", "node": "n1"}, "ignored", "new", "Sevilla", "60"))
    assert "Nodo n1 guardado" in str(result["toasts"]["children"])
    with app.extensions["enertrack"].read() as db:
        assert nodes.list_nodes(db, uid) == [nodes.NodeView("n1", "new", "Sevilla", 60)]
    result = response(save(dash, {"mode": "edit", "node": "n1"}, "n1", "new", "Sevilla", "60", "100000"))
    assert "guardado" in str(result["toasts"]["children"])
    with app.extensions["enertrack"].read() as db:
        assert nodes.list_nodes(db, uid)[0].max_power_w == 100_000.0
    bad = response(dash.call(VALIDATE, ["n1", "", "", 10, 5], [{"mode": "edit", "node": "n1"}]))
    assert bad["node-form-max_power_w"]["invalid"] is True
    assert "entre 100 y 10.000.000 W" in bad["node-form-max_power_w-feedback"]["children"]
    assert bad["node-form-save"]["disabled"] is True


def test_delete_asks_first_then_removes_node_and_readings(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = logged_in(app, client, dash)
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": 10})
    now = int(time.time())
    services.store.write([Reading("n1", now - i * 10, power=100.0) for i in range(5)])
    asked = response(dash.call(DELETE, [[1], 0, 0], [None, 0],
                               pattern_ids={0: [{"type": "node-delete", "node": "n1"}]}))
    assert asked["node-delete-modal"]["is_open"] is True
    assert "lecturas" in str(asked["node-delete-text"]["children"])
    assert asked["node-delete-pending"]["data"] == "n1"
    with services.read() as db:
        assert nodes.list_nodes(db, uid)  # nothing deleted before confirming
    done = response(dash.call(DELETE, [[0], 0, 1], ["n1", 0],
                              pattern_ids={0: [{"type": "node-delete", "node": "n1"}]}, triggered=2))
    assert "Se borraron el nodo n1 y sus 5 lecturas" in str(done["toasts"]["children"])
    with services.read() as db:
        assert nodes.list_nodes(db, uid) == []
    assert list(services.store.readings("n1")) == []


def test_cancel_delete_keeps_the_node(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = logged_in(app, client, dash)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": 10})
    result = response(dash.call(DELETE, [[0], 1, 0], ["n1", 0],
                                pattern_ids={0: [{"type": "node-delete", "node": "n1"}]}, triggered=1))
    assert result["node-delete-modal"]["is_open"] is False and result["node-delete-pending"]["data"] is None
    with app.extensions["enertrack"].read() as db:
        assert len(nodes.list_nodes(db, uid)) == 1


def test_profile_saves_timezone_and_language(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    logged_in(app, client, dash)
    loaded = response(dash.call("profile-username.children", [True]))
    assert loaded["profile-timezone"]["value"] == "Europe/Madrid"
    saved = response(dash.call("in:profile-save", [1], ["Asia/Kathmandu", "en", "0,1875", "mxn"]))
    assert "Profile saved." in str(saved["toasts"]["children"]) and saved["lang-store"]["data"] == "en"
    bad = response(dash.call("in:profile-save", [1], ["Mars/Olympus", "en", "", "EUR"]))
    assert "timezone" in str(bad["toasts"]["children"]).lower()
    for price, currency, message in (("-1", "EUR", "between 0 and 100"), ("abc", "EUR", "between 0 and 100"),
                                     ("0.2", "EURO", "three-letter currency code")):
        bad = response(dash.call("in:profile-save", [1], ["UTC", "en", price, currency]))
        assert message in str(bad["toasts"]["children"])
    loaded = response(dash.call("profile-username.children", [True]))
    assert (loaded["profile-timezone"]["value"], loaded["profile-language"]["value"]) == ("Asia/Kathmandu", "en")
    assert (loaded["profile-price"]["value"], loaded["profile-currency"]["value"]) == ("0.1875", "MXN")


@pytest.mark.parametrize(("chosen", "said"), [("es", "Perfil guardado."), ("en", "Profile saved.")])
def test_profile_saved_is_said_in_the_language_just_chosen(app: Flask, client: FlaskClient, dash: DashClient,
                                                           chosen: str, said: str) -> None:
    logged_in(app, client, dash, lang="en" if chosen == "es" else "es")
    saved = response(dash.call("in:profile-save", [1], ["Europe/Madrid", chosen, "", "EUR"]))
    assert said in str(saved["toasts"]["children"]) and saved["lang-store"]["data"] == chosen


def test_an_absurd_refresh_counter_from_the_browser_is_no_crash(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    logged_in(app, client, dash)
    result = response(dash.call(FORM, [0, [], 0, 1], [{"mode": "add"}, "n9", "", "", 10, None, 10**30], triggered=3))
    assert result["nodes-refresh"]["data"] == 1
