"""Password change (current one required), account deletion (password, everything goes), policy everywhere."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from enertrack.cli.main import main
from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.models import Node, RejectedMessage, User, UserSession
from enertrack.validation import MESSAGES
from enertrack.web.services import account_deletion, nodes
from tests.conftest import PASSWORD, create_user, login
from tests.dash_client import DashClient

NEW = "purple elephants juggle quietly"
T0 = 1_767_225_600


def logged_in(client: FlaskClient) -> bool:
    return client.get("/enertrack/nodes").status_code == 200


def errors(response: Any) -> str:
    assert response.status_code == 303
    return parse_qs(urlsplit(response.headers["Location"]).query).get("errors", [""])[0]


def change(client: FlaskClient, dash: DashClient, current: str, new: str, confirm: str | None = None) -> Any:
    return client.post("/enertrack/account/password", data={
        "current_password": current, "password": new, "confirm": new if confirm is None else confirm,
        "csrf_token": dash.csrf_token()})


def other_browser(app: Flask, username: str, **extra: str) -> FlaskClient:
    other = app.test_client()
    login(other, DashClient(other, app.extensions["dash_app"]), username, **extra)
    assert logged_in(other)
    return other


@pytest.mark.parametrize(("current", "new", "confirm", "expected"), [
    ("not my password at all", NEW, None, "current_password:password_wrong"),
    (PASSWORD, "aaaaaaaaaaaa", None, "password:password_weak"),
    (PASSWORD, "password1234", None, "password:password_weak"),
    (PASSWORD, "ana@example.com", None, "password:password_personal"),
    (PASSWORD, "short", None, "password:password_short"),
    (PASSWORD, NEW, "something else entirely", "password:password_mismatch"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(
        current: str, new: str, confirm: str | None, expected: str,
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana", language="en")
    login(client, dash, "ana")
    phone = other_browser(app, "ana")
    assert errors(change(client, dash, current, new, confirm)) == expected
    assert logged_in(client) and logged_in(phone)
    # The profile page shows the reason next to the field.
    page = dash.call("_pages_content.children", ["/enertrack/profile", f"?errors={expected}", "en"])
    assert MESSAGES[expected.split(":")[1]] in page.get_data(as_text=True)


def test_a_password_change_logs_out_every_other_device_and_keeps_this_one(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana", language="en")
    login(client, dash, "ana")
    phone = other_browser(app, "ana", remember="on")
    remembered = phone.get_cookie("enertrack_remember", path="/enertrack/")
    assert remembered is not None
    response = change(client, dash, PASSWORD, NEW)
    assert (response.status_code, response.headers["Location"]) == (303, "/enertrack/profile")
    assert logged_in(client)
    assert not logged_in(phone)
    thief = app.test_client()
    thief.set_cookie("enertrack_remember", remembered.value, path="/enertrack/")
    assert not logged_in(thief)
    fresh = app.test_client()
    fresh_dash = DashClient(fresh, app.extensions["dash_app"])
    assert login(fresh, fresh_dash, "ana", PASSWORD).headers["Location"].startswith("/enertrack/login")
    assert login(fresh, fresh_dash, "ana", NEW).headers["Location"] == "/enertrack/"


def test_a_wrong_current_password_is_rate_limited(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    create_user(app, "ana", language="en")
    login(client, dash, "ana")
    limit = int(app.extensions["enertrack"].settings.login_limit_user.split()[0].split("/")[0])
    for _ in range(limit):
        assert change(client, dash, "guess " * 3, NEW).status_code == 303
    assert change(client, dash, PASSWORD, NEW).status_code == 429


def owned_data(app: Flask) -> tuple[int, int]:
    """Nodes of ana's and her readings in the store."""
    services = app.extensions["enertrack"]
    with services.read() as db:
        count = db.scalar(select(func.count()).select_from(Node))
    readings = sum(1 for node in ("a1", "a2") for _ in services.store.readings(node, None, None))
    return int(count or 0), readings


def test_deleting_the_account_needs_the_password_and_removes_nodes_readings_and_sessions(
        app: Flask, client: FlaskClient, dash: DashClient) -> None:
    uid = create_user(app, "ana", language="en")
    bea = create_user(app, "bea")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        for node in ("a1", "a2"):
            nodes.create_node(db, uid, {"node_id": node, "interval_s": 60})
        nodes.create_node(db, bea, {"node_id": "b1", "interval_s": 60})
        db.add(RejectedMessage(received_at=datetime(2026, 1, 1), node_id="a1", topic="t", reason="bad_json",
                               message="m", excerpt="e"))
    services.store.write([Reading(n, T0 + 60 * i, power=1.0, energy=i / 60) for n in ("a1", "a2", "b1")
                          for i in range(10)], {n: EnergyParams(60) for n in ("a1", "a2", "b1")})
    login(client, dash, "ana")
    phone = other_browser(app, "ana")
    page = client.get("/enertrack/profile")
    assert page.status_code == 200
    refused = client.post("/enertrack/account/delete", data={"password": "wrong", "csrf_token": dash.csrf_token()})
    assert errors(refused) == "delete_password:password_wrong"
    assert owned_data(app) == (3, 20)
    done = client.post("/enertrack/account/delete", data={"password": PASSWORD, "csrf_token": dash.csrf_token()})
    assert (done.status_code, done.headers["Location"]) == (303, "/enertrack/login")
    assert not logged_in(client) and not logged_in(phone)
    assert owned_data(app) == (1, 0)
    with services.read() as db:
        assert db.scalar(select(User.id).where(User.username == "ana")) is None
        assert db.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == uid)) == 0
        assert db.scalar(select(func.count()).select_from(RejectedMessage)) == 0
    assert len(list(services.store.readings("b1", None, None))) == 10  # someone else's data stays


def test_a_registered_clean_up_runs_and_a_failing_one_keeps_the_account(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    uid = create_user(app, "ana", language="en")
    services = app.extensions["enertrack"]
    with services.transaction() as db:
        nodes.create_node(db, uid, {"node_id": "a1", "interval_s": 60})
    seen: list[tuple[int, tuple[str, ...]]] = []
    monkeypatch.setattr(account_deletion, "_CLEANUPS", dict(account_deletion._CLEANUPS))
    account_deletion.register_cleanup("webhooks", lambda d: seen.append((d.user_id, d.node_ids)))
    assert account_deletion.cleanups() == ("broker_accounts", "readings", "webhooks")
    with pytest.raises(ValueError, match="already registered"):
        account_deletion.register_cleanup("webhooks", lambda d: None)

    def broken(_doomed: account_deletion.Doomed) -> None:
        raise RuntimeError("broker unreachable")

    account_deletion.register_cleanup("broker", broken)
    with pytest.raises(RuntimeError), services.transaction() as db:
        account_deletion.delete_account(db, uid, store=services.store, provisioner=services.provisioner)
    with services.read() as db:
        assert db.get(User, uid) is not None  # rolled back: nothing half-deleted
    del account_deletion._CLEANUPS["broker"]
    with services.transaction() as db:
        assert account_deletion.delete_account(db, uid, store=services.store,
                                               provisioner=services.provisioner) == ("a1",)
    assert seen[-1] == (uid, ("a1",))
    with services.read() as db:
        assert db.get(User, uid) is None


def test_the_cli_applies_the_same_password_policy(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    for weak, message in (("aaaaaaaaaaaa", "too easy to guess"), ("password1234", "too easy to guess"),
                          ("ana@example.com", "must not contain your username or email")):
        result = runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                      "--password", weak], env=env)
        assert result.exit_code == 2 and message in result.output, result.output
