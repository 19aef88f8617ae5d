"""ENERTRACK_REGISTRATION: open (anyone), closed (nobody), invite (single-use links from the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from enertrack.cli.main import main
from enertrack.models import User
from enertrack.web.app import create_app
from tests.conftest import PASSWORD, make_settings
from tests.dash_client import DashClient


def env(tmp_path: Path, mode: str) -> dict[str, str]:
    return {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "ENERTRACK_REGISTRATION": mode}


@pytest.fixture
def app_for(tmp_path: Path) -> Iterator[Any]:
    made: list[Flask] = []

    def build(mode: str) -> Flask:
        assert CliRunner().invoke(main, ["db", "upgrade"], env=env(tmp_path, mode)).exit_code == 0
        made.append(create_app(make_settings(tmp_path, ENERTRACK_REGISTRATION=mode)))
        return made[-1]

    yield build
    for app in made:
        app.extensions["enertrack"].store.close()


def sign_up(app: Flask, username: str, invite: str = "") -> Any:
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    return client.post("/enertrack/register", data={
        "username": username, "email": f"{username}@example.com", "password": PASSWORD, "confirm": PASSWORD,
        "timezone": "UTC", "language": "en", "invite": invite, "csrf_token": dash.csrf_token()})


def users(app: Flask) -> list[str]:
    with app.extensions["enertrack"].read() as db:
        return list(db.scalars(select(User.username).order_by(User.username)))


def page(app: Flask, query: str = "") -> str:
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    return dash.call("_pages_content.children", ["/enertrack/register", query, "en"]).get_data(as_text=True)


def test_closed_registration_creates_nobody(app_for: Any) -> None:
    app = app_for("closed")
    assert "register-closed" in page(app)
    response = sign_up(app, "ana")
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/login")
    assert users(app) == []


def test_invite_registration_needs_a_single_use_link_from_the_cli(app_for: Any, tmp_path: Path) -> None:
    app = app_for("invite")
    assert "register-closed" in page(app)
    assert sign_up(app, "ana", "made-up-token").headers["Location"] == "/enertrack/login"
    made = CliRunner().invoke(main, ["user", "invite"], env=env(tmp_path, "invite"))
    assert made.exit_code == 0, made.output
    link = made.output.strip().splitlines()[0]
    assert link.startswith("/enertrack/register?invite=")
    token = parse_qs(urlsplit(link).query)["invite"][0]
    assert "register-username" in page(app, f"?invite={token}")
    assert sign_up(app, "ana", token).headers["Location"].startswith("/enertrack/login?username=ana")
    assert users(app) == ["ana"]
    assert sign_up(app, "bea", token).headers["Location"] == "/enertrack/login"  # used up
    assert users(app) == ["ana"]


def test_a_refused_invited_sign_up_keeps_the_invitation(app_for: Any, tmp_path: Path) -> None:
    app = app_for("invite")
    token = parse_qs(urlsplit(CliRunner().invoke(main, ["user", "invite"], env=env(tmp_path, "invite"))
                              .output.strip()).query)["invite"][0]
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    weak = client.post("/enertrack/register", data={
        "username": "ana", "email": "ana@example.com", "password": "password1234", "confirm": "password1234",
        "timezone": "UTC", "language": "en", "invite": token, "csrf_token": dash.csrf_token()})
    assert parse_qs(urlsplit(weak.headers["Location"]).query)["invite"] == [token]  # the form keeps it
    assert sign_up(app, "ana", token).headers["Location"].startswith("/enertrack/login?username=ana")


def test_open_registration_is_the_default(app_for: Any) -> None:
    app = app_for("open")
    assert "register-username" in page(app)
    assert sign_up(app, "ana").headers["Location"].startswith("/enertrack/login?username=ana")
