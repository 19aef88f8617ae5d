"""Password reset by e-mail against a real SMTP server: one answer for everyone, single use, one hour."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from enertrack.cli.main import main
from enertrack.config import ConfigError, load_settings
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.models import PasswordReset, utcnow
from enertrack.web.app import create_app
from enertrack.web.services.login_sessions import token_hash
from tests.conftest import PASSWORD, create_user, login, make_settings
from tests.dash_client import DashClient
from tests.smtp_server import Inbox, smtp_server  # noqa: F401 - the fixture

NEW = "purple elephants juggle quietly"
PUBLIC = "https://energia.example.org"


@pytest.fixture
def mail_app(tmp_path: Path, smtp_server: tuple[str, int, Inbox]) -> Iterator[Flask]:  # noqa: F811
    host, port, _inbox = smtp_server
    settings = make_settings(tmp_path, ENERTRACK_SMTP_URL=f"smtp://{host}:{port}", ENERTRACK_SMTP_STARTTLS="false",
                             ENERTRACK_SMTP_FROM="EnerTrack <noreply@example.org>", ENERTRACK_PUBLIC_URL=PUBLIC)
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    yield app
    app.extensions["enertrack"].store.close()


def flashed(client: FlaskClient) -> list[Any]:
    with client.session_transaction("/enertrack/") as session:
        return list(session.get("_flashes", []))


def ask(client: FlaskClient, dash: DashClient, email: str, **headers: str) -> Any:
    return client.post("/enertrack/forgot", data={"email": email, "lang": "en", "csrf_token": dash.csrf_token()},
                       headers=headers)


def link_token(body: str) -> str:
    link = re.search(r"https://\S+", body)
    assert link is not None, body
    assert link.group(0).startswith(PUBLIC + "/enertrack/reset?token=")
    return parse_qs(urlsplit(link.group(0)).query)["token"][0]


def choose(client: FlaskClient, dash: DashClient, token: str, password: str, confirm: str | None = None) -> Any:
    return client.post("/enertrack/reset", data={"token": token, "password": password, "lang": "en",
                                                 "confirm": password if confirm is None else confirm,
                                                 "csrf_token": dash.csrf_token()})


def test_a_reset_link_by_mail_sets_a_new_password_once_and_ends_every_login(
        mail_app: Flask, smtp_server: tuple[str, int, Inbox]) -> None:  # noqa: F811
    inbox = smtp_server[2]
    create_user(mail_app, "ana", language="en")
    phone = mail_app.test_client()
    login(phone, DashClient(phone, mail_app.extensions["dash_app"]), "ana")
    client = mail_app.test_client()
    dash = DashClient(client, mail_app.extensions["dash_app"])
    response = ask(client, dash, "ANA@example.com")
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/login")
    [mail] = inbox.wait(1)
    assert mail["To"] == "ana@example.com" and "noreply@example.org" in mail["From"]
    token = link_token(mail.get_content())  # on ENERTRACK_PUBLIC_URL, not the request's host (localhost)
    with mail_app.extensions["enertrack"].read() as db:
        assert list(db.scalars(select(PasswordReset.token_hash))) == [token_hash(token)]  # only its hash
    page = dash.call("_pages_content.children", ["/enertrack/reset", f"?token={token}", "en"])
    assert "reset-password" in page.get_data(as_text=True)
    weak = choose(client, dash, token, "password1234")
    assert parse_qs(urlsplit(weak.headers["Location"]).query)["errors"] == ["password:password_weak"]
    done = choose(client, dash, token, NEW)
    assert done.headers["Location"] == "/enertrack/login?username=ana"
    assert phone.get("/enertrack/nodes").status_code == 302  # logged out everywhere
    assert login(client, dash, "ana", PASSWORD).headers["Location"].startswith("/enertrack/login")
    assert login(client, dash, "ana", NEW).headers["Location"] == "/enertrack/"
    again = choose(client, dash, token, "another fine long passphrase")
    assert again.headers["Location"] == "/enertrack/forgot"  # single use


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
        mail_app: Flask, smtp_server: tuple[str, int, Inbox]) -> None:  # noqa: F811
    inbox = smtp_server[2]
    create_user(mail_app, "ana")
    answers = []
    for email in ("ana@example.com", "nobody@example.com"):
        client = mail_app.test_client()
        response = ask(client, DashClient(client, mail_app.extensions["dash_app"]), email)
        answers.append((response.status_code, response.headers["Location"], flashed(client)))
    assert answers[0] == answers[1]
    inbox.wait(1)
    assert len(inbox.messages) == 1


def test_a_link_older_than_an_hour_is_refused(mail_app: Flask, smtp_server: tuple[str, int, Inbox]) -> None:  # noqa: F811
    create_user(mail_app, "ana")
    client = mail_app.test_client()
    dash = DashClient(client, mail_app.extensions["dash_app"])
    ask(client, dash, "ana@example.com")
    token = link_token(smtp_server[2].wait(1)[0].get_content())
    with mail_app.extensions["enertrack"].transaction() as db:
        for row in db.scalars(select(PasswordReset)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            assert row.expires_at - row.created_at <= timedelta(hours=1)
    assert choose(client, dash, token, NEW).headers["Location"] == "/enertrack/forgot"
    assert login(client, dash, "ana", PASSWORD).headers["Location"] == "/enertrack/"


def test_without_smtp_the_page_says_reset_is_unavailable_and_names_the_cli(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana")
    page = dash.call("_pages_content.children", ["/enertrack/forgot", "", "en"]).get_data(as_text=True)
    assert "forgot-unavailable" in page and "enertrack user set-password" in page
    response = client.post("/enertrack/forgot", data={"email": "ana@example.com", "lang": "en",
                                                      "csrf_token": dash.csrf_token()})
    assert response.headers["Location"] == "/enertrack/forgot"
    with app.extensions["enertrack"].read() as db:
        assert db.scalar(select(PasswordReset.id)) is None


def test_smtp_needs_a_sender_and_the_public_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ENERTRACK_SMTP_FROM .* ENERTRACK_PUBLIC_URL"):
        load_settings(ENERTRACK_ENV="development", ENERTRACK_DATA_DIR=str(tmp_path), _env_file=None,
                      ENERTRACK_SMTP_HOST="mail.example.org")


def test_the_cli_sets_a_password_with_the_policy_and_ends_logins(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", PASSWORD], env=env).exit_code == 0
    weak = runner.invoke(main, ["user", "set-password", "--username", "ana", "--password", "aaaaaaaaaaaa"], env=env)
    assert weak.exit_code == 2 and "too easy to guess" in weak.output
    missing = runner.invoke(main, ["user", "set-password", "--username", "zoe", "--password", NEW], env=env)
    assert missing.exit_code != 0 and "no user called 'zoe'" in missing.output
    settings = make_settings(tmp_path)
    app = create_app(settings)
    try:
        client = app.test_client()
        login(client, DashClient(client, app.extensions["dash_app"]), "ana")
        assert client.get("/enertrack/nodes").status_code == 200
        done = runner.invoke(main, ["user", "set-password", "--username", "ana", "--password", NEW], env=env)
        assert done.exit_code == 0, done.output
        assert client.get("/enertrack/nodes").status_code == 302
        fresh = app.test_client()
        assert login(fresh, DashClient(fresh, app.extensions["dash_app"]), "ana", NEW).headers["Location"] == \
            "/enertrack/"
    finally:
        app.extensions["enertrack"].store.close()
