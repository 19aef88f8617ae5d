"""Ownership at every room: each callback that takes a node id, given valid inputs, shows the caller's
node and nothing of anyone else's, and changes nothing of theirs.

tests/integration/test_isolation.py throws malformed values at every input; this file starts from inputs that
reach the data path (proved by showing the caller's own node first) and swaps in another user's
node id, one callback at a time. A new server callback must be listed here, or the last test fails.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.reading import Reading
from enertrack.ingest.batcher import DeadLetter, HealthReport
from enertrack.ingest.payload import Health, Reason, Rejection
from enertrack.ingest.users_db import record
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient, is_pattern

TODAY = date.today()
START, END = (TODAY - timedelta(days=3)).isoformat(), (TODAY + timedelta(days=1)).isoformat()


def spellings(value: float, decimals: int) -> set[str]:
    """How a number may appear on a page: 217.3, 217,3; 4321, 4,321, 4.321, 4 321."""
    plain = f"{value:.{decimals}f}"
    whole, _, frac = plain.partition(".")
    groups = [f"{int(whole):,}".replace(",", sep) for sep in (",", ".", " ", "\u00a0", "")]
    return {g + (mark + frac if frac else "") for g in groups for mark in (".", ",")}


class Owner:
    """A user with one node, readings with unusual values, a dead letter and a health report: all of it marked."""

    def __init__(self, app: Flask, name: str, node_id: str, voltage: float, power: float) -> None:
        self.name, self.node_id = name, node_id
        # The node id counts too: a page only names a node it agreed to show (never in a refusal).
        self.marks = {f"DESC-{name.upper()}", f"LOC-{name.upper()}", f"DEAD-LETTER-{name.upper()}", f"FW-{name.upper()}",
                      node_id}
        self.numbers = spellings(voltage, 1) | spellings(power, 0)
        services = app.extensions["enertrack"]
        uid = create_user(app, name)
        with services.transaction() as db:
            nodes.create_node(db, uid, {"node_id": node_id, "description": f"DESC-{name.upper()}",
                                        "location": f"LOC-{name.upper()}", "interval_s": 60}, services.store)
        now = int(time.time()) // 60 * 60
        services.store.write([Reading(node_id, now - 60 * i, voltage=voltage, current=2.0, power=power,
                                      energy=1000 - i * power / 60_000, power_factor=0.9, frequency=50.0)
                              for i in range(3 * 1440)])
        record(services.sessions, [DeadLetter(Rejection(Reason.OUT_OF_RANGE, f"DEAD-LETTER-{name.upper()}",
                                                        node_id, "{}"), f"enertrack/{node_id}/telemetry",
                                              time.time())], [],
               health={node_id: HealthReport(node_id, now, Health(fw=f"FW-{name.upper()}"))})

    def shown_in(self, text: str) -> set[str]:
        """The marks and numbers of this owner that appear in text."""
        found = {mark for mark in self.marks if mark in text}
        found |= {n for n in self.numbers if re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d])", text)}
        return found


# Callback (a unique fragment of its output key) -> component values that reach its data path for
# node n. Values are keyed by "component-id.property"; pattern inputs by their "type".
READS: dict[str, dict[str, Any]] = {
    "node-rejections.children": {"node-below.data": "{n}"},
    "node-health.children": {"node-below.data": "{n}"},
    "node-missing.children": {"node-store.data": "{n}", "node-preset.value": "24h"},
    "node-tick.disabled": {"node-store.data": "{n}", "node-preset.value": "24h", "theme-resolved.data": "light"},
    "analysis-chart.figure": {"analysis-period.value": "day", "analysis-range.start_date": START,
                              "analysis-range.end_date": END, "analysis-nodes.value": ["{n}"],
                              "theme-resolved.data": "light", "analysis-site.value": "all"},
    "analysis-download.data": {"analysis-download-button.n_clicks": 1, "analysis-period.value": "day",
                               "analysis-range.start_date": START, "analysis-range.end_date": END,
                               "analysis-nodes.value": ["{n}"], "analysis-site.value": "all"},
    "node-quality-body.children": {"node-below.data": "{n}", "node-quality-week.value": "0"},
    "node-form-modal.is_open": {"node-edit": 1, "trigger": "node-edit", "nodes-refresh.data": 0},
    "node-delete-modal.is_open": {"node-delete": 1, "trigger": "node-delete", "nodes-refresh.data": 0},
    "connect-body.children...connect-regenerate.style": {"connect-node.data": "{n}"},
}
# Callbacks that change a node: replayed with the other user's id only; nothing of theirs may change.
WRITES: dict[str, dict[str, Any]] = {
    "save": {"node-form-save.n_clicks": 1, "trigger": "node-form-save", "node-form-mode.data": {"mode": "edit", "node": "{n}"},
             "node-form-node_id.value": "{n}", "node-form-description.value": "HACKED",
             "node-form-location.value": "HACKED", "node-form-interval_s.value": 99, "nodes-refresh.data": 0},
    "delete": {"node-delete-confirm.n_clicks": 1, "trigger": "node-delete-confirm", "node-delete-pending.data": "{n}",
               "nodes-refresh.data": 0},
    "regenerate": {"connect-confirm.n_clicks": 1, "trigger": "connect-confirm", "connect-node.data": "{n}"},
}
WRITE_CALLBACKS = {"save": "node-form-modal.is_open", "delete": "node-delete-modal.is_open",
                   "regenerate": "connect-body.children@"}
# Callbacks a node id never reaches (checked for leaks with the caller's own inputs only).
NO_NODE = ("nav-links.children", '"type":"csrf"', "nodes-table.children", "node-form-node_id.invalid",
           "panel-updated.children", "profile-username.children", "lang-store.data@", "analysis-nodes.options",
           "analysis-range.start_date", "_pages_content.children", "nav-bell-count.children",
           "panel-today-state.data", "panel-today.figure@", "panel-site.options", "connect-confirm-modal.is_open",
           "=lang-store.data")
LIVE = ("node-chart-voltage.figure", "node-live.data")  # the retheme and the live tick: checked separately
# Callbacks that take another user's ids (rules, events, nodes) and are refused in their own page's tests.
ELSEWHERE = {
    "alert-rules.children": "tests/integration/test_alerts_page.py",
    "alert-preset-slot.children": "tests/integration/test_alerts_page.py",
    "alerts-editing.data": "tests/integration/test_alerts_page.py",  # save, edit, pause, delete: only one's own
    "alerts-refresh.data": "tests/integration/test_alerts_page.py",  # presets on a node, mark read
    "notify-email.value": "tests/integration/test_alerts_page.py",
    "notify-secret.value": "tests/integration/test_alerts_page.py",
    # Sites, the bill and the insights: another user's sites and nodes give nothing.
    "analysis-bill.children": "tests/integration/test_bill_page.py",
    "analysis-unusual.children": "tests/integration/test_unusual_days_page.py",
    "panel-insights.children": "tests/integration/test_insights_page.py",
    "sites-list.children": "tests/integration/test_sites_page.py",
    "sites-site-message": "tests/integration/test_sites_page.py",
    "sites-move-message": "tests/integration/test_sites_page.py",
    "sites-tariff-message": "tests/integration/test_sites_page.py",
    "sites-nominal-message": "tests/integration/test_sites_page.py",
    "sites-name.value": "tests/integration/test_sites_page.py",
    "sites-delete-text.children": "tests/integration/test_sites_page.py",  # asks to delete a site or tariff
    "sites-refresh.data": "tests/integration/test_sites_page.py",  # deletes it
}


def fill(template: dict[str, Any], node_id: str) -> dict[str, Any]:
    """The template with {n} replaced by node_id, recursively."""
    text = json.dumps(template).replace("{n}", node_id)
    return json.loads(text)


def build(dash: DashClient, spec: dict[str, Any], values: dict[str, Any], node_id: str) -> dict[str, Any]:
    """A request body for spec from component values; unnamed components get None (pattern: node_id)."""
    def value_of(dep: dict[str, Any]) -> Any:
        if is_pattern(dep["id"]):
            kind = json.loads(dep["id"])["type"] if isinstance(dep["id"], str) else dep["id"]["type"]
            return values.get(kind)
        return values.get(f"{dep['id']}.{dep['property']}")

    inputs = [value_of(d) for d in spec["inputs"]]
    state = [value_of(d) for d in spec.get("state", [])]
    pattern_ids: dict[int, list[dict[str, Any]]] = {}
    for offset, deps in ((0, spec["inputs"]), (100, spec.get("state", []))):
        for i, dep in enumerate(deps):
            if is_pattern(dep["id"]):
                ident = json.loads(dep["id"]) if isinstance(dep["id"], str) else dict(dep["id"])
                pattern_ids[offset + i] = [{k: (node_id if isinstance(v, list) else v) for k, v in ident.items()}]
    if spec["output"].startswith("{") and 0 in pattern_ids:  # a wildcard output mirrors its wildcard input
        pattern_ids[-1] = pattern_ids[0]
    trigger = values.get("trigger")
    triggered = 0
    for i, dep in enumerate(spec["inputs"]):
        name = dep["id"] if isinstance(dep["id"], str) else ""
        kind = (json.loads(dep["id"])["type"] if is_pattern(dep["id"]) and isinstance(dep["id"], str) else None)
        if trigger is not None and trigger in (name, kind):
            triggered = i
    return dash.body(spec, inputs, state, pattern_ids=pattern_ids, triggered=triggered)


@pytest.fixture
def world(app: Flask, client: FlaskClient, dash: DashClient) -> tuple[Owner, Owner]:
    alice = Owner(app, "alice", "alice-meter", voltage=217.3, power=4321.0)
    bob = Owner(app, "bob", "bob-meter", voltage=243.7, power=1789.0)
    assert login(client, dash, "bob").status_code == 303
    return alice, bob


def post(client: FlaskClient, body: dict[str, Any]) -> str:
    response = client.post(UPDATE, json=body)
    assert response.status_code in (200, 204), response.data[:300]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("fragment", sorted(READS))
def test_a_callback_shows_the_callers_node_and_nothing_of_anothers(fragment: str, world: tuple[Owner, Owner],
                                                                   client: FlaskClient, dash: DashClient) -> None:
    alice, bob = world
    spec = dash.spec(fragment)
    own = post(client, build(dash, spec, fill(READS[fragment], bob.node_id), bob.node_id))
    assert bob.shown_in(own), f"{fragment}: the template does not reach the data path (nothing of bob's shown)"
    other = post(client, build(dash, spec, fill(READS[fragment], alice.node_id), alice.node_id))
    assert alice.shown_in(other) == set(), f"{fragment} leaked {alice.shown_in(other)}"


@pytest.mark.parametrize("action", sorted(WRITES))
def test_a_callback_never_changes_anothers_node(action: str, world: tuple[Owner, Owner], app: Flask,
                                                client: FlaskClient, dash: DashClient) -> None:
    alice, _bob = world
    services = app.extensions["enertrack"]
    before = list(services.store.readings(alice.node_id))
    spec = dash.spec(WRITE_CALLBACKS[action])
    text = post(client, build(dash, spec, fill(WRITES[action], alice.node_id), alice.node_id))
    assert alice.shown_in(text) == set()
    with services.read() as db:
        node = nodes.owned(db, 1, alice.node_id)  # alice is user 1
        assert (node.description, node.location, node.interval_s) == ("DESC-ALICE", "LOC-ALICE", 60)
    assert list(services.store.readings(alice.node_id)) == before


def test_the_live_tick_and_retheme_refuse_anothers_node(world: tuple[Owner, Owner], client: FlaskClient,
                                                        dash: DashClient) -> None:
    alice, bob = world
    drawn = client.post(UPDATE, json=build(dash, dash.spec("node-tick.disabled"),
                                            fill(READS["node-tick.disabled"] | {"node-preset.value": "1h"},
                                                 bob.node_id), bob.node_id)).get_json()["response"]
    state = drawn.get("node-state", {}).get("data")
    assert state, "drawing bob's node should give a live state"
    for fragment in dash.server_callbacks():
        if not any(live in fragment["output"] for live in LIVE):
            continue
        values = {"node-tick.n_intervals": 1, "node-store.data": alice.node_id, "node-state.data": state,
                  "node-preset.value": "1h", "theme-resolved.data": "dark"}
        text = post(client, build(dash, fragment, values, alice.node_id))
        assert alice.shown_in(text) == set()


def test_callbacks_without_a_node_input_show_nothing_of_anothers(world: tuple[Owner, Owner],
                                                                 client: FlaskClient, dash: DashClient) -> None:
    alice, _bob = world
    for fragment in NO_NODE:
        spec = dash.spec(fragment)
        values = {"nodes-refresh.data": 1, "panel-tick.n_intervals": 1, "profile-load.data": True,
                  "analysis-load.data": True, "analysis-period.value": "day",
                  "_pages_location.pathname": "/enertrack/nodes", "lang-store.data": "es"}
        body = build(dash, spec, values, "x")
        if fragment == "panel-updated.children":
            body = dash.body(spec, [1, "all"], pattern_ids=dash.on_page(fragment, "node", ["bob-meter"]))
        assert alice.shown_in(post(client, body)) == set(), fragment


def test_every_server_callback_is_classified(dash: DashClient) -> None:
    known = [*READS, *WRITE_CALLBACKS.values(), *NO_NODE, *LIVE, *ELSEWHERE]
    for spec in dash.server_callbacks():
        assert any(fragment in spec["output"] or fragment == "=" + spec["output"] for fragment in known), (
            f"new callback {spec['output'][:80]}: add it to READS, WRITES, NO_NODE, LIVE or ELSEWHERE in this file")
