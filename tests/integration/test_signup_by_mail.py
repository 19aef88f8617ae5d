"""With SMTP, sign-up confirms the address by a link and answers everyone the same (real SMTP server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.models import PendingSignup, User
from enertrack.web.app import create_app
from enertrack.web.services.login_sessions import token_hash
from tests.conftest import PASSWORD, create_user, login, make_settings
from tests.dash_client import DashClient
from tests.smtp_server import Inbox, smtp_server  # noqa: F401 - the fixture

PUBLIC = "https://energia.example.org"


@pytest.fixture
def mail_app(tmp_path: Path, smtp_server: tuple[str, int, Inbox]) -> Iterator[Flask]:  # noqa: F811
    host, port, _inbox = smtp_server
    settings = make_settings(tmp_path, ENERTRACK_SMTP_HOST=host, ENERTRACK_SMTP_PORT=str(port),
                             ENERTRACK_SMTP_STARTTLS="false", ENERTRACK_SMTP_FROM="noreply@example.org",
                             ENERTRACK_PUBLIC_URL=PUBLIC)
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    yield app
    app.extensions["enertrack"].store.close()


def sign_up(app: Flask, username: str, email: str) -> tuple[FlaskClient, Any]:
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    response = client.post("/enertrack/register", data={
        "username": username, "email": email, "password": PASSWORD, "confirm": PASSWORD, "timezone": "UTC",
        "language": "en", "csrf_token": dash.csrf_token()})
    with client.session_transaction("/enertrack/") as session:
        flashes = list(session.get("_flashes", []))
    return client, (response.status_code, response.headers["Location"], flashes)


def users(app: Flask) -> list[str]:
    with app.extensions["enertrack"].read() as db:
        return list(db.scalars(select(User.username).order_by(User.username)))


def test_everyone_gets_the_same_answer_and_the_account_exists_once_confirmed(
        mail_app: Flask, smtp_server: tuple[str, int, Inbox]) -> None:  # noqa: F811
    inbox = smtp_server[2]
    create_user(mail_app, "ana", email="ana@example.com")
    _, taken = sign_up(mail_app, "ana_again", "ana@example.com")
    client, new = sign_up(mail_app, "bea", "bea@example.com")
    assert taken == new  # no telling whether ana@example.com has an account
    assert new[1] == "/enertrack/login"
    mails = {m["To"]: m.get_content() for m in inbox.wait(2)}
    assert "already has one" in mails["ana@example.com"]
    assert users(mail_app) == ["ana"]  # nothing created before the link is opened
    link = re.search(r"https://\S+", mails["bea@example.com"])
    assert link is not None and link.group(0).startswith(PUBLIC + "/enertrack/confirm?token=")
    token = parse_qs(urlsplit(link.group(0)).query)["token"][0]
    with mail_app.extensions["enertrack"].read() as db:
        assert list(db.scalars(select(PendingSignup.token_hash))) == [token_hash(token)]
    dash = DashClient(client, mail_app.extensions["dash_app"])
    page = dash.call("_pages_content.children", ["/enertrack/confirm", f"?token={token}", "en"])
    assert "confirm-submit" in page.get_data(as_text=True)
    done = client.post("/enertrack/confirm", data={"token": token, "lang": "en", "csrf_token": dash.csrf_token()})
    assert done.headers["Location"] == "/enertrack/login?username=bea"
    assert users(mail_app) == ["ana", "bea"]
    assert login(client, dash, "bea").headers["Location"] == "/enertrack/"
    again = client.post("/enertrack/confirm", data={"token": token, "lang": "en", "csrf_token": dash.csrf_token()})
    assert again.headers["Location"] == "/enertrack/register"  # once


def test_form_problems_are_still_shown_next_to_the_field(mail_app: Flask) -> None:
    create_user(mail_app, "ana")
    _, answer = sign_up(mail_app, "ana", "someone@example.com")  # usernames are public: taken is said
    assert "username:username_taken" in parse_qs(urlsplit(answer[1]).query)["errors"][0]
