"""Accounts on the web: register, log in, log out, redirects, rate limits, CSRF, cookie flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.web.app import create_app
from enertrack.web.services import login_sessions
from tests.conftest import PASSWORD, create_user, login, make_settings
from tests.dash_client import DashClient, components


def register(client: FlaskClient, dash: DashClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"username": "ana", "email": "ana@example.com", "password": PASSWORD, "confirm": PASSWORD,
            "timezone": "America/Santiago", "language": "es", "csrf_token": dash.csrf_token()}
    data.update(fields)
    return client.post("/enertrack/register", data=data)


def query(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(urlsplit(response.headers["Location"]).query)


def logged_in(client: FlaskClient) -> bool:
    return client.get("/enertrack/nodes").status_code == 200


def test_register_creates_the_account_and_sends_to_login(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    response = register(client, dash)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/enertrack/login?username=ana")
    from enertrack.web.services.accounts import find_user

    with app.extensions["enertrack"].read() as db:
        user = find_user(db, "ana")
        assert user is not None and user.timezone == "America/Santiago" and user.password_hash.startswith("scrypt:")
    assert login(client, dash, "ana").status_code == 303
    assert logged_in(client)


def test_failed_forms_keep_emails_and_typed_secrets_out_of_urls(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    failed = login(client, dash, "a secret typed into the wrong field", "whatever")
    assert "secret" not in failed.headers["Location"]
    response = register(client, dash, username="bob", email="bob.private@example.com", password="short", confirm="short")
    assert "bob.private" not in response.headers["Location"] and query(response)["username"] == ["bob"]


def test_register_rejects_duplicates_and_weak_passwords(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    response = register(client, dash, username="Ana", email="ANA@example.com")
    assert response.status_code == 303
    errors = query(response)["errors"][0]
    assert "username:username_taken" in errors and "email:email_taken" in errors
    response = register(client, dash, username="bob", email="bob@example.com", password="short", confirm="short")
    assert "password:password_short" in query(response)["errors"][0]
    response = register(client, dash, username="bob", email="bob@example.com", confirm="something else entirely")
    assert "password:password_mismatch" in query(response)["errors"][0]
    assert not logged_in(client)


def test_register_page_shows_the_errors_it_is_sent_back_with(client: FlaskClient, dash: DashClient) -> None:
    response = dash.call("_pages_content.children", ["/enertrack/register", "?errors=username:username_taken", "es"])
    assert response.status_code == 200
    assert "Ese nombre de usuario ya existe" in response.get_data(as_text=True)


def test_login_redirects_to_next(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    response = login(client, dash, "ana", next="/enertrack/profile")
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/profile")


def test_next_never_leaves_the_app(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    for target in ("https://evil.example/", "//evil.example/x", "/other-app/", "/enertrack/\\\\evil"):
        response = login(client, dash, "ana", next=target)
        assert response.headers["Location"] == "/enertrack/", target


def page_props(dash: DashClient, path: str, **params: str) -> list[dict[str, Any]]:
    """The props of every component the pages router renders for path?params."""
    search = "?" + urlencode(params) if params else ""
    answer = dash.call("_pages_content.children", [path, search, "es"]).get_json()["response"]["_pages_content"]
    return [c["props"] for c in components(answer["children"])]


def link(dash: DashClient, path: str, link_id: str, **params: str) -> str:
    return next(props["href"] for props in page_props(dash, path, **params) if props.get("id") == link_id)


def hidden_next(dash: DashClient, **params: str) -> str:
    return next(props["value"] for props in page_props(dash, "/enertrack/register", **params)
                if props.get("name") == "next")


def test_sign_up_carries_next_through_to_the_page_first_asked_for(client: FlaskClient, dash: DashClient) -> None:
    asked = "/enertrack/nodes?x=1"
    carried = "next=%2Fenertrack%2Fnodes%3Fx%3D1"
    # the login page the guard sent the visitor to links to sign-up with next...
    assert link(dash, "/enertrack/login", "login-to-register", next=asked) == "/enertrack/register?" + carried
    # ...the sign-up form posts it (and its "Log in" link keeps it)...
    assert hidden_next(dash, next=asked) == asked
    assert link(dash, "/enertrack/register", "register-to-login", next=asked) == "/enertrack/login?" + carried
    # ...a failed sign-up comes back with it, a successful one sends it on to login...
    failed = register(client, dash, password="short", confirm="short", next=asked)
    assert query(failed)["next"] == [asked] and urlsplit(failed.headers["Location"]).path == "/enertrack/register"
    created = register(client, dash, next=asked)
    assert query(created) == {"username": ["ana"], "next": [asked]}
    # ...and login honours it.
    assert login(client, dash, "ana", next=query(created)["next"][0]).headers["Location"] == asked


def test_sign_up_drops_a_next_that_leaves_the_app(client: FlaskClient, dash: DashClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/other-app/", "/enertrack/\\\\evil", "/enertrack/"):
        assert "next" not in query(register(client, dash, username="bob", password="short", confirm="short",
                                            next=target)), target
        assert link(dash, "/enertrack/login", "login-to-register", next=target) == "/enertrack/register", target
        assert hidden_next(dash, next=target) == "", target
    created = register(client, dash, next="https://evil.example/")
    assert query(created) == {"username": ["ana"]}


def test_anonymous_page_visit_is_sent_to_login_with_next(client: FlaskClient) -> None:
    response = client.get("/enertrack/nodes?x=1")
    assert response.status_code == 302
    assert query(response)["next"] == ["/enertrack/nodes?x=1"]


def test_one_generic_message_for_unknown_user_and_wrong_password(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    messages = []
    for username, password in (("ana", "wrong password!!"), ("nobody", PASSWORD)):
        response = login(client, dash, username, password)
        assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/enertrack/login"
        toast = dash.call("nav-user.children", ["/enertrack/login", "es"]).get_data(as_text=True)
        messages.append("Usuario o contraseña incorrectos." in toast)
    assert messages == [True, True]
    assert not logged_in(client)


def test_logout_ends_the_session(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    login(client, dash, "ana")
    assert logged_in(client)
    response = client.post("/enertrack/logout", data={"csrf_token": dash.csrf_token()})
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/login")
    assert not logged_in(client)


def test_forms_require_the_csrf_token(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    response = client.post("/enertrack/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 400
    response = client.post("/enertrack/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert not logged_in(client)
    response = client.post("/enertrack/register", data={"username": "bob", "email": "bob@example.com",
                                                         "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    login(client, dash, "ana")
    client.post("/enertrack/logout", data={})
    assert logged_in(client), "a logout without the token must not log out"


def test_login_attempts_are_rate_limited_per_username(tmp_path: Path) -> None:
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = make_settings(tmp_path, ENERTRACK_LOGIN_LIMIT_USER="3 per minute", ENERTRACK_LOGIN_LIMIT_IP="100 per minute")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    create_user(app, "ana")
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    codes = [login(client, dash, "ana", "wrong password!!").status_code for _ in range(4)]
    assert codes == [303, 303, 303, 429]
    blocked = login(client, dash, "ana")  # even the right password waits now
    assert blocked.status_code == 429
    assert "text/html" in blocked.headers["Content-Type"] and b"react-entry-point" in blocked.data
    toast = dash.call("nav-user.children", ["/enertrack/login", "es"]).get_data(as_text=True)
    assert "Demasiados intentos" in toast
    other = login(client, dash, "bob", "wrong password!!")  # another username is not blocked
    assert other.status_code == 303
    # Someone else, from another address, can still log in as ana: no lockout by strangers.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert login(elsewhere, DashClient(elsewhere, app.extensions["dash_app"]), "ana").status_code == 303


def test_a_username_has_a_total_limit_across_addresses(tmp_path: Path) -> None:
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = make_settings(tmp_path, ENERTRACK_LOGIN_LIMIT_USER_TOTAL="3 per minute",
                             ENERTRACK_LOGIN_LIMIT_USER="100 per minute", ENERTRACK_LOGIN_LIMIT_IP="100 per minute")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    create_user(app, "ana")
    codes = []
    for i in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{i}"
        codes.append(login(client, DashClient(client, app.extensions["dash_app"]), "ana", "wrong password!!").status_code)
    assert codes == [303, 303, 303, 429]


def test_login_attempts_are_rate_limited_per_ip(tmp_path: Path) -> None:
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = make_settings(tmp_path, ENERTRACK_LOGIN_LIMIT_IP="3 per minute", ENERTRACK_LOGIN_LIMIT_USER="100 per minute")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    codes = [login(client, dash, f"user{i}", "wrong password!!").status_code for i in range(4)]
    assert codes == [303, 303, 303, 429]


def test_successful_logins_do_not_count_against_the_limit(tmp_path: Path) -> None:
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = make_settings(tmp_path, ENERTRACK_LOGIN_LIMIT_USER="2 per minute")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    create_user(app, "ana")
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    assert [login(client, dash, "ana").status_code for _ in range(4)] == [303] * 4


def cookie_flags(response, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "="))


def test_cookie_flags(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    response = login(client, dash, "ana", remember="on")
    for name in ("enertrack_session", "enertrack_remember"):
        flags = cookie_flags(response, name)
        assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/enertrack/" in flags
        assert "Secure" not in flags


def test_cookies_are_secure_when_configured_for_https(tmp_path: Path) -> None:
    from enertrack.db import make_engine
    from enertrack.migrate import upgrade

    settings = make_settings(tmp_path, ENERTRACK_HTTPS="true")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    create_user(app, "ana")
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    response = login(client, dash, "ana", remember="on")
    for name in ("enertrack_session", "enertrack_remember"):
        assert "Secure" in cookie_flags(response, name)


def test_login_starts_a_new_session(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana")
    dash.csrf_token()
    with client.session_transaction("/enertrack/") as before:
        before["planted"] = "by an attacker"
        old_token = before.get("csrf_token")
    login(client, dash, "ana")
    with client.session_transaction("/enertrack/") as after:
        assert "planted" not in after
        token = after.get("_user_id")
        assert after.get("csrf_token") != old_token
    with app.extensions["enertrack"].read() as db:  # the session holds this login's token, not the user id
        user = login_sessions.user_for(db, token)
        assert user is not None and user.username == "ana"


def test_healthz_is_public(client: FlaskClient) -> None:
    response = client.get("/enertrack/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_profile_language_wins_over_what_the_browser_remembered(client: FlaskClient, dash: DashClient, app: Flask) -> None:
    create_user(app, "ana", language="en")
    login(client, dash, "ana")
    # The browser still remembers the Spanish it used on the login page: the profile wins, in the
    # navbar and in the page the router renders, with no round trip to update what it remembered.
    navbar = dash.call("nav-user.children", ["/enertrack/", "es"]).get_json()["response"]
    assert "Log out" in str(navbar["nav-user"]["children"])
    page = dash.call("_pages_content.children", ["/enertrack/", "", "es"]).get_json()["response"]
    assert "Averages over your active nodes" in str(page) and "Medias de tus nodos" not in str(page)
    from enertrack.web.services.accounts import find_user

    with app.extensions["enertrack"].read() as db:
        assert find_user(db, "ana").language == "en"


# The browser remembers Spanish, or English from before while the profile says Spanish: either
# way picking English saves it and writes the store (again), which is what re-renders the page
# and the navbar.
@pytest.mark.parametrize("remembered", ["es", "en"])
def test_the_language_menu_changes_the_profile_and_rerenders(client: FlaskClient, dash: DashClient, app: Flask,
                                                             remembered: str) -> None:
    create_user(app, "ana", language="es")
    login(client, dash, "ana")
    result = dash.call("=lang-store.data", ["en"], [remembered]).get_json()["response"]
    assert result["lang-store"]["data"] == "en"
    from enertrack.web.services.accounts import find_user

    with app.extensions["enertrack"].read() as db:
        assert find_user(db, "ana").language == "en"
