"""The Alerts page and the navbar bell through their callbacks: rules, presets, notifications, settings."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from enertrack.alerts import manage
from enertrack.alerts.rules import make_spec
from enertrack.models import AlertEvent, AlertRule, NotifySettings
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import DashClient

SAVE = "in:alert-save"
ACTION = "alert-for.value"
BELL = "nav-bell-count.children"


def response(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]


def setup_user(app: Flask, client: FlaskClient, dash: DashClient, name: str = "ana") -> int:
    uid = create_user(app, name)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": f"{name}-casa", "interval_s": 10})
    login(client, dash, name)
    return uid


def rules(app: Flask, uid: int) -> list[tuple[str | None, str, float | None, int, bool]]:
    with app.extensions["enertrack"].read() as db:
        return [(r.node_id, r.kind, r.threshold, r.for_s, r.paused)
                for r in db.scalars(select(AlertRule).where(AlertRule.owner_id == uid).order_by(AlertRule.id))]


def save(dash: DashClient, editing: Any, node: Any, kind: Any, threshold: Any = None, low: Any = None,
         high: Any = None, duration: Any = "1m") -> dict[str, Any]:
    return response(dash.call(SAVE, [1, 0], [editing, node, kind, threshold, low, high, duration, 0]))


def test_add_a_rule_and_see_it_listed(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    result = save(dash, None, "ana-casa", "voltage-low", "207", "stale", "stale", "10m")
    assert "Regla guardada" in str(result["toasts"]) and result["alerts-refresh"]["data"] == 1
    save(dash, None, "", "frequency", "999", "49,5", "50.5", "30s")  # all nodes; threshold ignored
    assert rules(app, uid) == [("ana-casa", "voltage-low", 207.0, 600, False), (None, "frequency", None, 30, False)]
    listed = str(response(dash.call("alert-rules.children", [1], [None])))
    assert "Tensión por debajo de &lt; 207 V" in listed or "Tensión por debajo de < 207 V" in listed
    assert "Todos los nodos" in listed and "10m" in listed


def test_bad_rules_are_refused_with_the_reason_and_nothing_saved(app: Flask, client: FlaskClient,
                                                                 dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    for args in [("ana-casa", "voltage-low", "abc"), ("ana-casa", "voltage-low", "207", None, None, "soon"),
                 ("bob-casa", "voltage-low", "207"), ("ana-casa", "brownout", "1")]:
        result = save(dash, None, *args)
        assert "La regla no se guardó" in str(result["toasts"]) and "reason" not in str(result["toasts"])
    assert rules(app, uid) == []


def test_edit_pause_resume_delete_only_ones_own(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    other = create_user(app, "bob")
    with app.extensions["enertrack"].transaction() as db:
        mine = manage.add_rule(db, uid, "ana-casa", make_spec("power-above", 60, "3000"), 0).id
        theirs = manage.add_rule(db, other, None, make_spec("offline", 300), 0).id

    def act(rule: int, action: str) -> dict[str, Any]:
        button = {"type": "alert-rule-action", "rule": rule, "action": action}
        return response(dash.call(ACTION, [[1]], [0], pattern_ids={0: [button]}))

    filled = act(mine, "edit")
    assert filled["alerts-editing"]["data"] == mine
    assert (filled["alert-kind"]["value"], filled["alert-threshold"]["value"], filled["alert-for"]["value"]) == (
        "power-above", 3000.0, "1m")
    save(dash, mine, "ana-casa", "power-above", "4000", None, None, "2m")
    assert rules(app, uid) == [("ana-casa", "power-above", 4000.0, 120, False)]
    act(mine, "pause")
    assert rules(app, uid)[0][4] is True
    act(mine, "resume")
    assert rules(app, uid)[0][4] is False
    assert "ya no existe" in str(act(theirs, "delete")["toasts"])  # someone else's: refused
    assert rules(app, other) == [(None, "offline", None, 300, False)]
    act(mine, "delete")
    assert rules(app, uid) == []


def test_presets_add_the_standard_rules_once(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    create_user(app, "bob")

    def click(node: str, preset: str) -> dict[str, Any]:
        button = {"type": "alert-preset", "node": node, "preset": preset}
        return response(dash.call('in:"type":"alert-preset"', [[1]], [0], pattern_ids={0: [button]}))

    assert "3 reglas añadidas" in str(click("ana-casa", "en50160")["toasts"])
    assert "0 reglas añadidas" in str(click("ana-casa", "en50160")["toasts"])
    assert "no se puede aplicar" in str(click("bob-casa", "en50160")["toasts"])
    assert [(r[1], r[2]) for r in rules(app, uid)] == [("voltage-low", 207.0), ("voltage-high", 253.0),
                                                       ("frequency", None)]


def test_notifications_mark_read_and_the_bell(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    with app.extensions["enertrack"].transaction() as db:
        db.add_all([AlertEvent(owner_id=uid, node_id="ana-casa", kind="voltage-low", state="firing",
                               ts=1_780_000_000, value=195.0, limit_text="< 207 V") for _ in range(2)])
    first = response(dash.call(BELL, [0], [None]))
    assert first["nav-bell-count"]["children"] == "2" and "toasts" not in first  # no toasts for old ones
    seen = first["nav-bell-seen"]["data"]
    with app.extensions["enertrack"].transaction() as db:
        db.add(AlertEvent(owner_id=uid, node_id="ana-casa", kind="offline", state="firing", ts=1_780_000_100,
                          limit_text="> 60 s"))
    second = response(dash.call(BELL, [1], [seen]))
    assert second["nav-bell-count"]["children"] == "3"
    assert "Nodo desconectado" in str(second["toasts"]) and "Tensión" not in str(second["toasts"])
    event_id = seen["id"]
    response(dash.call("in:alert-mark-all", [[1], 0], [0], pattern_ids={0: [{"type": "alert-read",
                                                                                 "event": event_id}]}))
    assert response(dash.call(BELL, [2], [None]))["nav-bell-count"]["children"] == "2"
    response(dash.call("in:alert-mark-all", [[], 1], [0], triggered=1))
    third = response(dash.call(BELL, [3], [None]))
    assert "d-none" in third["nav-bell-count"]["class_name"]


def test_notify_settings_refuse_loopback_webhooks_and_generate_a_secret(app: Flask, client: FlaskClient,
                                                                         dash: DashClient) -> None:
    uid = setup_user(app, client, dash)
    refused = response(dash.call("notify-secret.value", [1], ["ana@example.com", "http://127.0.0.1:9/x", "", ""]))
    assert "ENERTRACK_WEBHOOK_ALLOW_PRIVATE" in str(refused["toasts"])
    saved = response(dash.call("notify-secret.value", [1], ["Ana@Example.com", "http://93.184.215.14/hook", "",
                                                            "22:00-07:00"]))
    assert len(saved["notify-secret"]["value"]) == 48
    with app.extensions["enertrack"].read() as db:
        found = db.get(NotifySettings, uid)
        assert (found.email, found.quiet_start, found.quiet_end) == ("ana@example.com", "22:00", "07:00")
    bad = response(dash.call("notify-secret.value", [1], ["", "", "", "late"]))
    assert "22:00-07:00" in str(bad["toasts"])


def test_the_page_and_its_callbacks_need_a_login(client: FlaskClient, dash: DashClient) -> None:
    assert dash.call(BELL, [0], [None]).status_code == 401
    assert dash.call(SAVE, [1, 0], [None, "", "offline", None, None, None, "1m", 0]).status_code == 401


def test_the_node_page_offers_the_presets_in_one_click(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    import dash as dash_module

    uid = setup_user(app, client, dash)
    node_page = next(p for p in dash_module.page_registry.values() if p["path_template"] == "/nodes/<node_id>")
    page = str(node_page["layout"](node_id="ana-casa", lang="es").to_plotly_json())
    assert "'type': 'alert-preset', 'node': 'ana-casa', 'preset': 'en50160'" in page
    assert "children='ANSI C84.1 A'" in page
    button = {"type": "alert-preset", "node": "ana-casa", "preset": "ansi-c84.1"}
    response(dash.call('in:"type":"alert-preset"', [[1]], [0], pattern_ids={0: [button]}))
    assert [(r[1], r[2]) for r in rules(app, uid)] == [("voltage-low", 114.0), ("voltage-high", 126.0),
                                                       ("frequency", None)]
