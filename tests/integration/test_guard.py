"""The one guard: anonymous visitors reach only the public pages and what those need."""

from __future__ import annotations

import re

import dash
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient

PUBLIC = {"/login", "/register", "/forgot", "/reset", "/confirm"}


def protected_paths() -> list[str]:
    """Every registered page except the public ones, with sample values for path variables."""
    paths = []
    for page in dash.page_registry.values():
        path = re.sub(r"<[^>]+>", "some-node", page["path_template"] or page["path"])
        if path not in PUBLIC:
            paths.append("/enertrack" + path if path != "/" else "/enertrack/")
    return paths


def test_every_protected_page_redirects_anonymous_visitors_to_login(client: FlaskClient) -> None:
    paths = protected_paths()
    assert "/enertrack/" in paths and "/enertrack/nodes" in paths and "/enertrack/profile" in paths
    for path in paths + ["/enertrack/unknown-page", "/enertrack"]:
        response = client.get(path)
        assert response.status_code in (301, 302, 308), path
        assert "/enertrack/login" in response.headers["Location"] or path == "/enertrack", path


def test_public_pages_are_served(client: FlaskClient) -> None:
    for path in PUBLIC:
        assert client.get("/enertrack" + path).status_code == 200


def test_anonymous_visitors_may_run_exactly_four_callbacks(app: Flask) -> None:
    # Written out by hand on purpose: a broader allow-list must fail here, not pass silently.
    assert app.extensions["anonymous_callbacks"] == {
        ".._pages_content.children..._pages_store.data..": True,  # the router (public paths only)
        "..nav-links.children...nav-public.children...nav-user.children...toasts.children"
        "...theme-toggle.title..": False,  # navbar, flashed messages
        "lang-store.data": False,  # the remembered language, when it changes
        '{"form":["ALL"],"type":"csrf"}.value': False,  # CSRF tokens for the forms
    }


def test_every_callback_refuses_anonymous_callers(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    allowed = app.extensions["anonymous_callbacks"]
    refused = 0
    for spec in dash.server_callbacks():
        if spec["output"] in allowed:
            continue
        inputs = [None for _ in spec["inputs"]]
        state = [None for _ in spec.get("state", [])]
        response = client.post(UPDATE, json=dash.body(spec, inputs, state))
        assert response.status_code == 401, spec["output"]
        refused += 1
    assert refused >= 5


def test_router_serves_only_public_pages_to_anonymous_visitors(dash: DashClient) -> None:
    assert dash.call("_pages_content.children", ["/enertrack/login", "", "es"]).status_code == 200
    for path in protected_paths():
        assert dash.call("_pages_content.children", [path, "", "es"]).status_code == 401, path


def test_session_callback_gives_anonymous_visitors_public_content_only(dash: DashClient) -> None:
    response = dash.call("nav-user.children", ["/enertrack/login", "es"])
    assert response.status_code == 200
    body = response.get_json()["response"]
    assert body["nav-user"]["children"] is None and body["nav-links"]["children"] == []


def test_shell_layout_and_dependencies_hold_no_user_data(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "zelda_q42", email="zelda.q42@example.com")
    login(client, dash, "zelda_q42")
    anonymous = app.test_client()
    for path in ("/enertrack/_dash-layout", "/enertrack/_dash-dependencies"):
        public = anonymous.get(path)
        assert public.status_code == 200
        assert public.data == client.get(path).data  # identical for everyone
        assert b"zelda" not in public.data


def test_cross_origin_callbacks_are_refused(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    login(client, dash, "ana")
    spec = dash.spec("nodes-table.children")
    response = client.post(UPDATE, json=dash.body(spec, [0]), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    same = client.post(UPDATE, json=dash.body(spec, [0]), headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_csrf_exemption_still_targets_dashs_callback_endpoint(app: Flask) -> None:
    # Dash has renamed this endpoint between versions; if it moves, CSRF would block every callback.
    view = app.view_functions["/enertrack/_dash-update-component"]
    csrf = app.extensions["csrf"]
    assert f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def test_an_unexpected_callback_failure_becomes_a_friendly_toast(client: FlaskClient, dash: DashClient,
                                                                 app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    create_user(app, "ana")
    login(client, dash, "ana")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    import enertrack.web.services.nodes

    monkeypatch.setattr(enertrack.web.services.nodes, "list_nodes", broken)
    response = dash.call("nodes-table.children", [1])
    assert response.status_code == 200
    assert "Algo ha fallado por nuestra parte" in response.get_data(as_text=True)


def test_theme_is_set_in_head_before_the_page_renders(client: FlaskClient) -> None:
    html = client.get("/enertrack/login").get_data(as_text=True)
    head, body = html.split("<body>", 1) if "<body>" in html else html.split("<body", 1)
    assert "data-bs-theme" in head and "prefers-color-scheme" in head and "react-entry-point" in body


def test_healthz_never_tells_why_the_database_failed(app: Flask, client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    def refuse(*_a: object, **_k: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("Access denied for user 'enertrack_app'@'10.0.0.5'"))

    monkeypatch.setattr("sqlalchemy.orm.Session.execute", refuse)
    response = client.get("/enertrack/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "error", "database": "unavailable"}
    assert b"enertrack_app" not in response.data
