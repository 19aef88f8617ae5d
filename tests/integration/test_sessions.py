"""Logout that really logs out: server-side logins, remember tokens per login, log out everywhere."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from enertrack.models import UserSession
from enertrack.web.services import login_sessions
from tests.conftest import PASSWORD, create_user, login
from tests.dash_client import DashClient

SESSION = "enertrack_session"
REMEMBER = "enertrack_remember"
PATH = "/enertrack/"


def logged_in(client: FlaskClient) -> bool:
    return client.get("/enertrack/nodes").status_code == 200


def cookie(client: FlaskClient, name: str) -> str:
    found = client.get_cookie(name, path=PATH)
    assert found is not None, f"no {name} cookie"
    return found.value


def browser(app: Flask, **cookies: str) -> FlaskClient:
    """A fresh client holding only the given cookies (what a thief copied)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value, path=PATH)
    return other


def logout(client: FlaskClient, dash: DashClient) -> None:
    response = client.post("/enertrack/logout", data={"csrf_token": dash.csrf_token()})
    assert response.status_code == 303


def test_a_session_cookie_copied_before_logout_is_refused_after_it(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    login(client, dash, "ana")
    stolen = cookie(client, SESSION)
    assert logged_in(browser(app, **{SESSION: stolen}))
    logout(client, dash)
    assert not logged_in(client)
    assert not logged_in(browser(app, **{SESSION: stolen}))


def test_the_remember_cookie_is_new_at_each_login_stored_hashed_and_ends_at_logout(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    login(client, dash, "ana", remember="on")
    first = cookie(client, REMEMBER)
    assert logged_in(browser(app, **{REMEMBER: first}))  # the remember cookie alone logs in
    logout(client, dash)
    assert client.get_cookie(REMEMBER, path=PATH) is None  # logout deletes it from the browser...
    assert not logged_in(browser(app, **{REMEMBER: first}))  # ...and a copy no longer works
    login(client, dash, "ana", remember="on")
    second = cookie(client, REMEMBER)
    assert second != first
    token = second.split("|")[0]
    with app.extensions["enertrack"].read() as db:
        hashes = list(db.scalars(select(UserSession.token_hash)))
    assert hashes == [login_sessions.token_hash(token)]  # only the hash is kept, never the token
    assert token not in hashes


def test_log_out_everywhere_ends_every_session_and_remember_cookie(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    create_user(app, "bea")
    phone, phone_dash = app.test_client(), None
    phone_dash = DashClient(phone, app.extensions["dash_app"])
    login(phone, phone_dash, "ana", remember="on")
    remembered = cookie(phone, REMEMBER)
    other_user = app.test_client()
    login(other_user, DashClient(other_user, app.extensions["dash_app"]), "bea")
    login(client, dash, "ana")
    response = client.post("/enertrack/account/logout-everywhere", data={"csrf_token": dash.csrf_token()})
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/login")
    assert not logged_in(client)
    assert not logged_in(phone)
    assert not logged_in(browser(app, **{REMEMBER: remembered}))
    assert logged_in(other_user)  # someone else's sessions are theirs


def test_an_expired_login_is_refused(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from datetime import timedelta

    from enertrack.models import utcnow

    create_user(app, "ana")
    login(client, dash, "ana")
    with app.extensions["enertrack"].transaction() as db:
        for row in db.scalars(select(UserSession)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert not logged_in(client)


def test_an_old_style_session_holding_the_user_id_is_not_a_login(app: Flask, client: FlaskClient) -> None:
    uid = create_user(app, "ana")
    with client.session_transaction(PATH) as session:
        session["_user_id"] = str(uid)  # what sessions held before 0005
        session["_fresh"] = True
    assert not logged_in(client)


def test_login_still_works_with_the_password(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    assert login(client, dash, "ana", PASSWORD).headers["Location"] == "/enertrack/"
    assert logged_in(client)
