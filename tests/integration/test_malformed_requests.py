"""No 500 from client input: every malformed request gets a 4xx and one log line, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient

DEEP = "[" * 100_000 + "]" * 100_000
CSRF = '"type":"csrf"'
ROUTER = "_pages_content.children"


def csrf_body(dash: DashClient, value_shape: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The CSRF-token callback's body with its wildcard input replaced by value_shape(one entry)."""
    form_id = {"form": "login", "type": "csrf"}
    body = dash.body(dash.spec(CSRF), [form_id], pattern_ids={0: [form_id], -1: [form_id]})
    body["inputs"] = [value_shape(body["inputs"][0][0])]
    return body


def router_body(dash: DashClient, search: Any) -> dict[str, Any]:
    return dash.body(dash.spec(ROUTER), ["/enertrack/login", search, "es"])


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


# (case, how to build the raw body or JSON body from the Dash client); all POSTed to the callback endpoint.
CASES: list[tuple[str, Callable[[DashClient], Any]]] = [
    ("deeply nested JSON", lambda d: DEEP),
    ("not JSON at all", lambda d: "{output: nope"),
    ("invalid UTF-8", lambda d: b'{"output": "\xff\xfe"}'),
    ("a list, not an object", lambda d: [1, 2, 3]),
    ("a bare string", lambda d: "just text"),
    ("no output", lambda d: without(router_body(d, ""), "output")),
    ("output that is no callback", lambda d: {**router_body(d, ""), "output": "nothing.here"}),
    ("output that is a number", lambda d: {**router_body(d, ""), "output": 7}),
    ("CSRF wildcard input given as one value", lambda d: csrf_body(d, lambda entry: entry)),
    ("CSRF wildcard input given as a number", lambda d: csrf_body(d, lambda entry: 5)),
    ("CSRF wildcard list holding a number", lambda d: csrf_body(d, lambda entry: [5])),
    ("router search as a list", lambda d: router_body(d, ["?a=1"])),
    ("router search as an object", lambda d: router_body(d, {"a": 1})),
    ("inputs not a list", lambda d: {**router_body(d, ""), "inputs": {"a": 1}}),
    ("too few inputs", lambda d: {**router_body(d, ""), "inputs": router_body(d, "")["inputs"][:1]}),
    ("state not a list", lambda d: {**router_body(d, ""), "state": "x"}),
    ("outputs of the wrong shape", lambda d: {**router_body(d, ""), "outputs": {"id": "x", "property": "y"}}),
    ("changedPropIds not a list of strings", lambda d: {**router_body(d, ""), "changedPropIds": [{"a": 1}]}),
]


def post(client: FlaskClient, payload: Any) -> Any:
    if isinstance(payload, str | bytes):
        return client.post(UPDATE, data=payload, content_type="application/json")
    return client.post(UPDATE, json=payload)


def assert_refused_once(response: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert 400 <= response.status_code < 500, response.data[:300]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    lines = [r for r in caplog.records if r.name == "enertrack.web" and r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "\n" not in lines[0].getMessage()


@pytest.mark.parametrize(("case", "build"), CASES, ids=[c for c, _ in CASES])
def test_malformed_callback_bodies_get_a_4xx_and_one_log_line_anonymous(
        case: str, build: Callable[[DashClient], Any], client: FlaskClient, dash: DashClient,
        caplog: pytest.LogCaptureFixture) -> None:
    payload = build(dash)
    caplog.clear()
    assert_refused_once(post(client, payload), caplog)


@pytest.mark.parametrize(("case", "build"), CASES, ids=[c for c, _ in CASES])
def test_malformed_callback_bodies_get_a_4xx_and_one_log_line_logged_in(
        case: str, build: Callable[[DashClient], Any], client: FlaskClient, dash: DashClient, app: Flask,
        caplog: pytest.LogCaptureFixture) -> None:
    create_user(app, "mallory_b")
    assert login(client, dash, "mallory_b").status_code == 303
    payload = build(dash)
    caplog.clear()
    assert_refused_once(post(client, payload), caplog)


def test_well_formed_bodies_still_work(client: FlaskClient, dash: DashClient) -> None:
    assert dash.csrf_token()
    assert post(client, router_body(dash, "")).status_code == 200
    assert post(client, router_body(dash, None)).status_code == 200


@pytest.mark.parametrize("bad", ["/enertrack/\r\nSet-Cookie: a=b", "/enertrack/nodes\n", "/enertrack/\x00x",
                                 "/enertrack/\x7f"])
def test_a_login_next_with_control_characters_goes_to_the_panel(
        bad: str, client: FlaskClient, dash: DashClient, app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    create_user(app, "nina_b")
    response = login(client, dash, "nina_b", next=bad)
    assert response.status_code == 303
    assert response.headers["Location"] == "/enertrack/"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failed_login_keeps_a_next_with_control_characters_out_of_headers(
        client: FlaskClient, dash: DashClient) -> None:
    response = login(client, dash, "nobody_here", "wrong", next="/enertrack/\r\nX-Evil: 1")
    assert response.status_code == 303
    assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]
