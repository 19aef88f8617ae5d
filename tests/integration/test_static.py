"""Serving over a real network: compressed when asked (and only then), cached by kind of resource."""

from __future__ import annotations

import gzip
import re
import time
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.reading import Reading
from enertrack.web.services import nodes
from enertrack.web.static import YEAR, accepted_encoding
from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient

BR = {"Accept-Encoding": "gzip, deflate, br"}
GZIP = {"Accept-Encoding": "gzip, deflate"}
NONE: dict[str, str] = {}
IDENTITY = {"Accept-Encoding": "identity"}


def decoded(resp: Any) -> bytes:
    """The body as the browser sees it after undoing Content-Encoding."""
    body = resp.get_data()
    encoding = resp.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def page_urls(client: FlaskClient) -> tuple[list[str], list[str]]:
    """The script URLs of the login page (with the Plotly bundle loaded on first use), its stylesheets."""
    html = client.get("/enertrack/login").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'data-plotly="([^"]+)"', html)
    return scripts, re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


@pytest.fixture
def owner(app: Flask, client: FlaskClient, dash: DashClient) -> str:
    """ana, logged in, owning node n1 with a day of minute readings; the node id."""
    uid = create_user(app, "ana", language="en", timezone="UTC")
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": 60})
    now = int(time.time()) // 60 * 60
    app.extensions["enertrack"].store.write([
        Reading("n1", ts, voltage=230.0 + ts % 7, current=2.0, power=460.0, energy=(ts - now) / 3600 + 100,
                power_factor=0.95, frequency=50.0) for ts in range(now - 86400, now, 60)])
    assert login(client, dash, "ana").status_code == 303
    return "n1"


@pytest.mark.parametrize(("headers", "encoding"), [(BR, "br"), (GZIP, "gzip"), (NONE, None), (IDENTITY, None),
                                                   ({"Accept-Encoding": "br;q=0, gzip"}, "gzip")])
def test_pages_are_compressed_only_as_the_browser_asks(client: FlaskClient, headers: dict[str, str],
                                                        encoding: str | None) -> None:
    plain = client.get("/enertrack/login")
    resp = client.get("/enertrack/login", headers=headers)
    assert resp.status_code == 200
    assert resp.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in resp.headers["Vary"]
    html = decoded(resp)  # the same page (its CSRF token differs per request)
    assert html.startswith(b"<!DOCTYPE html>") and abs(len(html) - len(plain.get_data())) < 100
    if encoding:
        assert len(resp.get_data()) < len(plain.get_data()) / 3


@pytest.mark.parametrize(("headers", "encoding"), [(BR, "br"), (GZIP, "gzip"), (NONE, None)])
def test_static_bundles_are_compressed_only_as_the_browser_asks(client: FlaskClient, headers: dict[str, str],
                                                                 encoding: str | None) -> None:
    scripts, styles = page_urls(client)
    for url in [*scripts, *styles]:
        plain = client.get(url)
        for _ in range(2):  # the second answer comes from the per-worker cache: the same bytes
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, url
            assert resp.headers.get("Content-Encoding") == encoding, url
            assert decoded(resp) == plain.get_data(), url
            assert int(resp.headers["Content-Length"]) == len(resp.get_data())
            assert "Accept-Ranges" not in resp.headers or encoding is None


def test_callbacks_and_downloads_are_compressed_and_never_cached(client: FlaskClient, dash: DashClient,
                                                                  owner: str) -> None:
    for headers, encoding in ((BR, "br"), (GZIP, "gzip"), (NONE, None)):
        body = dash.body(dash.spec("node-tick.disabled"), [owner, "24h", None, None], ["light"], triggered=1)
        drawn = client.post(UPDATE, json=body, headers=headers)
        assert drawn.status_code == 200
        assert drawn.headers.get("Content-Encoding") == encoding
        assert drawn.headers["Cache-Control"] == "no-store"
        assert b'"node-chart-power"' in decoded(drawn)

        csv = client.get(f"/enertrack/nodes/{owner}/readings.csv", headers=headers)
        assert csv.status_code == 200 and csv.mimetype == "text/csv"
        assert csv.headers.get("Content-Encoding") == encoding
        assert csv.headers["Cache-Control"] == "no-store"
        rows = decoded(csv).decode().splitlines()
        assert len(rows) == 1 + 1440, rows[:3]


def test_static_files_cached_for_a_year_pages_never(client: FlaskClient, dash: DashClient, owner: str) -> None:
    scripts, styles = page_urls(client)
    assert styles and [url for url in scripts if "/plotly-basic.min.js?v=" in url]
    for url in [*scripts, *styles, "/enertrack/_favicon.ico?v=1"]:
        resp = client.get(url, headers=BR)
        assert resp.headers["Cache-Control"] == YEAR, url
        assert "Set-Cookie" not in resp.headers, url  # the same for everyone: no cookie, no Vary: Cookie
        assert "cookie" not in resp.headers.get("Vary", "").lower(), url
    for url in ("/enertrack/", "/enertrack/login", f"/enertrack/nodes/{owner}", "/enertrack/_dash-layout",
                "/enertrack/_dash-dependencies"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    assert dash.call("panel-updated.children", [1, "all"], pattern_ids={-1: []}).headers["Cache-Control"] == "no-store"


def test_lazily_loaded_chunks_are_versioned_like_their_bundle(client: FlaskClient) -> None:
    """dcc fetches its graph and date-picker code from its own directory: that directory is versioned."""
    scripts, _ = page_urls(client)
    dcc = next(url for url in scripts if url.endswith("/dcc/dash_core_components.js"))
    folder = dcc.rsplit("/", 1)[0]
    assert re.search(r"/_dash-component-suites/dash/_v[0-9a-f]{12}/dcc$", folder)
    for chunk in ("async-graph.js", "async-datepicker.js", "async-dropdown.js"):
        resp = client.get(f"{folder}/{chunk}")
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == YEAR, chunk
    stale = re.sub(r"/_v[0-9a-f]{12}/", "/_v000000000000/", folder) + "/async-graph.js"
    resp = client.get(stale)  # an old page after an upgrade: served, but not pinned for a year
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-cache"


def test_assets_need_their_version_to_be_cached(client: FlaskClient) -> None:
    _, styles = page_urls(client)
    own = next(url for url in styles if "enertrack.css?m=" in url)
    vendor = next(url for url in styles if "bootstrap.min.css?v=" in url)
    assert client.get(own).headers["Cache-Control"] == YEAR
    assert client.get(vendor).headers["Cache-Control"] == YEAR
    for url in (own.split("?")[0], own.split("?")[0] + "?m=1", vendor.split("?")[0] + "?v=000000000000"):
        assert client.get(url).headers["Cache-Control"] == "no-cache", url
    missing = client.get("/enertrack/assets/nothing.css?v=1")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("header", "chosen"), [
    ("gzip, deflate, br", "br"), ("gzip, deflate", "gzip"), ("", None), ("identity", None), ("br;q=0, gzip", "gzip"),
    ("br;q=0, gzip;q=0", None), ("*", "br"), ("BR", "br"), ("gzip;q=bad", None),
])
def test_accepted_encoding(header: str, chosen: str | None) -> None:
    assert accepted_encoding(header) == chosen
