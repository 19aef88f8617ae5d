"""Isolation: user B throws A's node ids and malformed values at every callback: nothing of A's comes back,
nothing of A's changes, nothing crashes. tests/integration/test_ownership.py replays valid inputs one callback at a time."""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from enertrack.core.reading import Reading
from enertrack.models import Node
from enertrack.web.services import nodes
from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient, is_pattern
from tests.integration.test_ownership import spellings

A_NODE = "alice-meter"
SECRETS = ("SECRET-DESC-A", "SECRET-LOC-A", "alice@example.com", *sorted(spellings(217.3, 1) | spellings(4321.0, 0)))


def hostile_values(node_id: str) -> list[Any]:
    """Inputs a malicious client might send, each aimed at A's node or simply malformed."""
    return [node_id, 1, {"mode": "edit", "node": node_id}, [node_id], {"node": node_id, "type": "x"},
            None, "", -1, "x" * 5000, {"a": [1, {"b": None}]}, 1e308, True]


def concrete(pattern: Any, node_id: str) -> dict[str, Any]:
    """A concrete id for a pattern id, aimed at node_id."""
    ident = json.loads(pattern) if isinstance(pattern, str) else dict(pattern)
    return {key: node_id if isinstance(value, list) else value for key, value in ident.items()}


def seed_alice(app: Flask) -> None:
    uid = create_user(app, "alice")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": A_NODE, "description": "SECRET-DESC-A",
                                    "location": "SECRET-LOC-A", "interval_s": 10})
    now = int(time.time())
    services.store.write([Reading(A_NODE, now - 60 * i, voltage=217.3, power=4321.0, energy=10.0 + i / 100)
                          for i in range(30)])


def test_user_b_gets_nothing_of_user_a_from_any_callback(client: FlaskClient, dash: DashClient, app: Flask,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    seed_alice(app)
    create_user(app, "bob")
    assert login(client, dash, "bob").status_code == 303
    before = list(app.extensions["enertrack"].store.readings(A_NODE))
    calls = 0
    for spec in dash.server_callbacks():
        deps = spec["inputs"] + spec.get("state", [])
        for value, trigger in itertools.product(hostile_values(A_NODE), range(len(spec["inputs"]))):
            inputs = [value for _ in spec["inputs"]]
            state = [value for _ in spec.get("state", [])]
            pattern_ids = {i: [concrete(d["id"], A_NODE)] for i, d in enumerate(spec["inputs"]) if is_pattern(d["id"])}
            pattern_ids |= {100 + i: [concrete(d["id"], A_NODE)] for i, d in enumerate(spec.get("state", []))
                            if is_pattern(d["id"])}
            if is_pattern(deps[0]["id"]) or spec["output"].startswith("{"):
                pattern_ids[-1] = [concrete(json.loads(spec["output"].rpartition(".")[0]), A_NODE)] \
                    if spec["output"].startswith("{") else []
            body = dash.body(spec, inputs, state, pattern_ids=pattern_ids, triggered=trigger)
            response = client.post(UPDATE, json=body)
            calls += 1
            # 204: nothing to update; 400: the guard refused a malformed router call. Never a 500.
            assert response.status_code in (200, 204, 400), (spec["output"], value, response.data[:300])
            if response.status_code == 400:
                assert "_pages_content" in spec["output"]
            text = response.get_data(as_text=True)
            for secret in SECRETS:
                assert not re.search(rf"(?<![\w.,]){re.escape(secret)}(?![\w])", text), (spec["output"], value, secret)
    assert calls > 100
    failures = [r for r in caplog.records if r.name == "enertrack.web" and r.levelno >= logging.ERROR]
    assert failures == [], [r.exc_info for r in failures][:3]  # garbage is refused, never a crash
    services = app.extensions["enertrack"]
    with services.read() as db:
        node = db.scalar(select(Node).where(Node.node_id == A_NODE))
        assert node is not None and node.owner.username == "alice"
        assert (node.description, node.location, node.interval_s) == ("SECRET-DESC-A", "SECRET-LOC-A", 10)
    assert list(services.store.readings(A_NODE)) == before


def test_node_description_is_shown_as_text(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    uid = create_user(app, "ana")
    payload = "<img src=x onerror=alert(1)>"
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "description": payload, "location": payload, "interval_s": 10})
    login(client, dash, "ana")
    response = dash.call("nodes-table.children", [1]).get_json()
    cells = json.dumps(response)
    # Dash sends text as JSON strings that React renders as text nodes, never as HTML.
    assert json.dumps(payload)[1:-1] in cells.replace("\\\\", "\\")
    assert "dangerously_allow_html" not in cells and "DangerouslySetInnerHTML" not in cells


def test_a_reused_node_id_starts_empty(app: Flask) -> None:
    """A device's data under an id never reaches whoever registers that id after it was freed."""
    from enertrack.ingest.batcher import DeadLetter
    from enertrack.ingest.payload import Reason, Rejection
    from enertrack.ingest.users_db import recent_rejections, record
    from enertrack.models import RejectedMessage

    services = app.extensions["enertrack"]
    alice, bob = create_user(app, "alice"), create_user(app, "bob")
    with services.transaction() as db:
        nodes.create_node(db, alice, {"node_id": "shared-id", "interval_s": 10}, services.store)
    now = int(time.time())
    services.store.write([Reading("shared-id", now - 60, voltage=230.0)])
    record(services.sessions, [DeadLetter(Rejection(Reason.BAD_JSON, "alice's device", "shared-id", "x"),
                                          "enertrack/shared-id/telemetry", now)], [])
    with services.transaction() as db:
        nodes.delete_node(db, services.store, alice, "shared-id")
    with services.read() as db:
        assert db.query(RejectedMessage).count() == 0  # dead letters go with the node
    # The daemon refreshes its node list every minute: a late reading still lands after the delete.
    services.store.write([Reading("shared-id", now - 5, voltage=231.0)])
    record(services.sessions, [DeadLetter(Rejection(Reason.UNKNOWN_NODE, "refused before anyone owned it",
                                                    "shared-id", "y"), "enertrack/shared-id/telemetry", now)], [])
    with services.transaction() as db:
        nodes.create_node(db, bob, {"node_id": "shared-id", "interval_s": 10}, services.store)
    assert list(services.store.readings("shared-id")) == []
    assert recent_rejections(services.sessions, "shared-id") == []
