"""Lockout that stops attackers, not owners: OWASP device cookies on top of the per-address limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from enertrack.web.device_cookie import COOKIE
from tests.conftest import PASSWORD, create_user, login, make_settings
from tests.dash_client import DashClient

WRONG = "wrong password!!"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Flask]:
    """The app with the default login limits (5 per user and address, 20 per address) but 10 per user in
    total (the default is 50 per hour: the same thing, five times slower to show)."""
    settings = make_settings(tmp_path, ENERTRACK_LOGIN_LIMIT_USER_TOTAL="10 per hour")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    create_user(app, "ana")
    yield app
    app.extensions["enertrack"].store.close()


def browser(app: Flask, address: str) -> tuple[FlaskClient, DashClient]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, DashClient(client, app.extensions["dash_app"])


def owners_browser(app: Flask) -> tuple[FlaskClient, DashClient]:
    """Ana's own browser: she logged in there before (and out again), so it holds a device cookie."""
    client, dash = browser(app, "192.0.2.10")
    assert login(client, dash, "ana").headers["Location"] == "/enertrack/"
    assert client.post("/enertrack/logout", data={"csrf_token": dash.csrf_token()}).status_code == 303
    assert client.get_cookie(COOKIE, path="/enertrack/") is not None
    return client, dash


def strangers_exhaust_the_username(app: Flask) -> None:
    """Two wrong passwords from each of five addresses: the per-username total is spent."""
    codes = []
    for i in range(5):
        client, dash = browser(app, f"198.51.100.{i}")
        codes += [login(client, dash, "ana", WRONG).status_code for _ in range(2)]
    assert codes.count(303) == 10
    client, dash = browser(app, "198.51.100.99")
    assert login(client, dash, "ana", WRONG).status_code == 429


def test_strangers_cannot_lock_the_owner_out_of_her_own_browser(limited: Flask) -> None:
    own, own_dash = owners_browser(limited)
    strangers_exhaust_the_username(limited)
    response = login(own, own_dash, "ana")
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/")
    # An unknown browser still meets the per-username limit, even with the right password.
    new, new_dash = browser(limited, "203.0.113.5")
    assert login(new, new_dash, "ana").status_code == 429


def test_a_trusted_browser_has_its_own_limit(limited: Flask) -> None:
    own, own_dash = owners_browser(limited)
    laptop, laptop_dash = browser(limited, "192.0.2.10")  # the same address, another known browser
    assert login(laptop, laptop_dash, "ana").status_code == 303
    laptop.post("/enertrack/logout", data={"csrf_token": laptop_dash.csrf_token()})
    codes = [login(own, own_dash, "ana", WRONG).status_code for _ in range(5)]
    assert codes == [303] * 5
    assert login(own, own_dash, "ana").status_code == 429  # this device is locked for a while...
    other, other_dash = browser(limited, "192.0.2.77")
    other.set_cookie(COOKIE, laptop.get_cookie(COOKIE, path="/enertrack/").value, path="/enertrack/")
    assert login(other, other_dash, "ana").status_code == 303  # ...another known device is not


@pytest.mark.parametrize("cookie", ["forged", "tampered", "other user"])
def test_only_a_valid_cookie_for_that_username_is_trusted(limited: Flask, cookie: str) -> None:
    own, _ = owners_browser(limited)
    value = own.get_cookie(COOKIE, path="/enertrack/").value
    create_user(limited, "bea")
    if cookie == "forged":
        value = "eyJ1IjoiYW5hIiwibiI6Inh4eCJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    elif cookie == "tampered":
        value = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    else:
        bea, bea_dash = browser(limited, "192.0.2.11")
        login(bea, bea_dash, "bea")
        value = bea.get_cookie(COOKIE, path="/enertrack/").value
    strangers_exhaust_the_username(limited)
    holder, holder_dash = browser(limited, "192.0.2.12")
    holder.set_cookie(COOKIE, value, path="/enertrack/")
    assert login(holder, holder_dash, "ana").status_code == 429


def test_the_device_cookie_is_http_only_and_scoped_to_the_app(limited: Flask) -> None:
    client, dash = browser(limited, "192.0.2.10")
    response = login(client, dash, "ana", PASSWORD)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in header and "Path=/enertrack/" in header and "SameSite=Lax" in header
    assert "Max-Age=31536000" in header
    failed = login(*browser(limited, "192.0.2.13"), "ana", WRONG)  # a failed login earns no trust
    assert not [h for h in failed.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
