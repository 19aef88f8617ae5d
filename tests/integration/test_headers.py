"""Security headers on every response, a CSP that allows exactly Dash's inline scripts, HSTS with HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from enertrack.checkout import ROOT
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from enertrack.web.headers import HSTS, script_hash, security_headers
from tests.conftest import create_user, login, make_settings
from tests.dash_client import UPDATE, DashClient

STATIC = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
          "Cross-Origin-Opener-Policy": "same-origin"}
# An inline script the browser runs: no src, no JSON type (Dash's config is data, not code).
INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", re.S)
CONDITIONAL = re.compile(r"<!--\[if IE\]>.*?<!\[endif\]-->", re.S)  # never run by a browser we support


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def assert_secured(response, https: bool = False) -> None:  # type: ignore[no-untyped-def]
    for name, value in STATIC.items():
        assert response.headers.get(name) == value, (name, response.request.path)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert ("Strict-Transport-Security" in response.headers) == https
    if https:
        assert response.headers["Strict-Transport-Security"] == HSTS


def test_every_kind_of_response_carries_the_headers(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    for path in ("/enertrack/login", "/enertrack/register", "/enertrack/", "/enertrack/healthz",
                 "/enertrack/assets/enertrack.css", "/enertrack/nodes/x/readings.csv"):
        assert_secured(client.get(path))
    assert_secured(client.post(UPDATE, json=[1]))  # refused callbacks too
    create_user(app, "ana")
    login(client, dash, "ana")
    for path in ("/enertrack/", "/enertrack/nodes", "/enertrack/profile", "/enertrack/nodes/x/readings.csv"):
        assert_secured(client.get(path))
    assert_secured(dash.call("_pages_content.children", ["/enertrack/nodes", "", "es"]))


def test_the_csp_allows_exactly_the_inline_scripts_of_the_page(client: FlaskClient) -> None:
    response = client.get("/enertrack/login")
    html = CONDITIONAL.sub("", response.get_data(as_text=True))
    scripts = INLINE.findall(html)
    assert len(scripts) >= 3  # the theme, Dash's renderer, the clientside callbacks
    allowed = directives(response.headers["Content-Security-Policy"])["script-src"]
    assert {script_hash(s) for s in scripts} <= set(allowed)
    assert script_hash("alert(1)") not in allowed


def test_hsts_only_when_served_over_https(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ENERTRACK_HTTPS="true")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    try:
        assert_secured(app.test_client().get("/enertrack/login", base_url="https://localhost"), https=True)
    finally:
        app.extensions["enertrack"].store.close()


def test_the_nginx_template_sets_the_same_headers() -> None:
    conf = (ROOT / "deploy" / "nginx-enertrack.conf").read_text()
    added = dict(re.findall(r'add_header ([\w-]+) "([^"]*)" always;', conf))
    hidden = set(re.findall(r"proxy_hide_header ([\w-]+);", conf))
    expected = security_headers("unused", https=True)
    expected.pop("Content-Security-Policy")
    assert {k: added.get(k) for k in expected} == expected
    assert hidden == set(expected)  # each appears once: the app's copy is hidden
    assert "frame-ancestors 'none'" in added["Content-Security-Policy"]
