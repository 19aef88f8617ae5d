"""Per-user quotas: nodes, alert rules and webhooks, each on the web page and in the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from enertrack.cli.main import main
from enertrack.config import load_settings
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from enertrack.web.services.alerts import list_rules
from tests.conftest import create_user, login, make_settings
from tests.dash_client import DashClient
from tests.integration.test_alerts_page import SAVE as RULE_SAVE
from tests.integration.test_alerts_page import rules, setup_user
from tests.integration.test_nodes_page import response, save


def test_the_node_quota_holds_on_the_nodes_page(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ENERTRACK_QUOTA_NODES="2")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    try:
        create_user(app, "ana", language="en")
        create_user(app, "bea", language="en")
        client = app.test_client()
        dash = DashClient(client, app.extensions["dash_app"])
        login(client, dash, "ana")
        for node in ("n1", "n2"):
            assert "added" in str(response(save(dash, {"mode": "add"}, node))["toasts"])
        refused = str(response(save(dash, {"mode": "add"}, "n3"))["toasts"])
        assert "as many nodes as this installation allows" in refused
        other = app.test_client()
        other_dash = DashClient(other, app.extensions["dash_app"])
        login(other, other_dash, "bea")  # a quota is per user
        assert "added" in str(response(save(other_dash, {"mode": "add"}, "b1"))["toasts"])
    finally:
        app.extensions["enertrack"].store.close()


def test_the_node_quota_holds_in_the_cli(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "ENERTRACK_QUOTA_NODES": "1"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", "a long enough password"], env=env).exit_code == 0
    assert runner.invoke(main, ["node", "add", "--user", "ana", "--id", "n1"], env=env).exit_code == 0
    second = runner.invoke(main, ["node", "add", "--user", "ana", "--id", "n2"], env=env)
    assert second.exit_code == 2 and "ENERTRACK_QUOTA_NODES" in second.output


def test_quotas_have_sensible_defaults(tmp_path: Path) -> None:
    settings = load_settings(ENERTRACK_ENV="development", ENERTRACK_DATA_DIR=str(tmp_path), _env_file=None)
    assert (settings.quota_nodes, settings.quota_alert_rules, settings.quota_webhooks) == (100, 50, 1)
    off = load_settings(ENERTRACK_ENV="development", ENERTRACK_DATA_DIR=str(tmp_path), _env_file=None,
                        ENERTRACK_QUOTA_WEBHOOKS="0")
    assert off.quota_webhooks == 0  # webhooks off; nodes and rules need at least 1


@pytest.fixture
def quota_app(tmp_path: Path) -> Iterator[Flask]:
    """An app allowing two alert rules per user and no webhooks."""
    settings = make_settings(tmp_path, ENERTRACK_QUOTA_ALERT_RULES="2", ENERTRACK_QUOTA_WEBHOOKS="0",
                             ENERTRACK_WEBHOOK_ALLOW_PRIVATE="true")
    upgrade(make_engine(settings.sqlalchemy_url))
    app = create_app(settings)
    yield app
    app.extensions["enertrack"].store.close()
    app.extensions["enertrack"].engine.dispose()


def rule_toast(dash: DashClient, editing: Any = None, threshold: str = "3000") -> str:
    result = dash.call(RULE_SAVE, [1, 0], [editing, "", "power-above", threshold, None, None, "1m", 0])
    return str(response(result)["toasts"])


def preset_toast(dash: DashClient, node: str) -> str:
    button = {"type": "alert-preset", "node": node, "preset": "en50160"}
    return str(response(dash.call('in:"type":"alert-preset"', [[1]], [0], pattern_ids={0: [button]}))["toasts"])


def test_the_alert_rule_quota_holds_on_the_alerts_page(quota_app: Flask) -> None:
    client = quota_app.test_client()
    dash = DashClient(client, quota_app.extensions["dash_app"])
    ana = setup_user(quota_app, client, dash)  # Spanish, the default
    assert "Regla guardada" in rule_toast(dash)
    assert "ENERTRACK_QUOTA_ALERT_RULES" in preset_toast(dash, "ana-casa")  # three would pass it: none added
    assert len(rules(quota_app, ana)) == 1
    assert "Regla guardada" in rule_toast(dash)
    refused = rule_toast(dash)
    assert "La regla no se guardó" in refused and "ENERTRACK_QUOTA_ALERT_RULES" in refused
    assert "permite 2" in refused  # says the limit, in the user's language
    assert "ENERTRACK_QUOTA_ALERT_RULES" in preset_toast(dash, "ana-casa")
    assert len(rules(quota_app, ana)) == 2
    with quota_app.extensions["enertrack"].read() as db:
        editing = list_rules(db, ana)[0].id
    assert "Regla guardada" in rule_toast(dash, editing, "4000")  # editing adds nothing: allowed at the limit
    other = quota_app.test_client()
    other_dash = DashClient(other, quota_app.extensions["dash_app"])
    bea = setup_user(quota_app, other, other_dash, "bea")
    assert "ENERTRACK_QUOTA_ALERT_RULES" in preset_toast(other_dash, "bea-casa") and rules(quota_app, bea) == []
    assert "Regla guardada" in rule_toast(other_dash)  # a quota is per user


def test_the_alert_rule_quota_holds_in_the_cli(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "ENERTRACK_QUOTA_ALERT_RULES": "2"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", "a long enough password"], env=env).exit_code == 0
    assert runner.invoke(main, ["node", "add", "--user", "ana", "--id", "n1"], env=env).exit_code == 0
    preset = runner.invoke(main, ["alert", "preset", "--user", "ana", "--node", "n1", "--preset", "en50160"],
                           env=env)
    assert preset.exit_code == 2 and "allows 2" in preset.output
    for _ in range(2):
        assert runner.invoke(main, ["alert", "add", "--user", "ana", "--rule", "offline", "--for", "5m"],
                             env=env).exit_code == 0
    third = runner.invoke(main, ["alert", "add", "--user", "ana", "--rule", "offline", "--for", "5m"], env=env)
    assert third.exit_code == 2 and "ENERTRACK_QUOTA_ALERT_RULES" in third.output
    assert runner.invoke(main, ["alert", "list", "--user", "ana"], env=env).output.count("offline") == 2


def test_a_webhook_quota_of_0_refuses_webhook_urls_on_the_page(quota_app: Flask) -> None:
    from enertrack.models import NotifySettings

    client = quota_app.test_client()
    dash = DashClient(client, quota_app.extensions["dash_app"])
    ana = create_user(quota_app, "ana", language="en")
    login(client, dash, "ana")
    refused = response(dash.call("notify-secret.value", [1], ["ana@example.com", "http://127.0.0.1:9/x", "", ""]))
    assert "allows no webhooks" in str(refused["toasts"]) and "ENERTRACK_QUOTA_WEBHOOKS" in str(refused["toasts"])
    with quota_app.extensions["enertrack"].read() as db:
        assert db.get(NotifySettings, ana) is None
    saved = response(dash.call("notify-secret.value", [1], ["ana@example.com", "", "", ""]))  # e-mail only
    assert "Saved." in str(saved["toasts"])


def test_the_webhook_quota_holds_in_the_cli_and_keeps_a_url_set_before(tmp_path: Path) -> None:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path),
           "ENERTRACK_WEBHOOK_ALLOW_PRIVATE": "true"}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "create", "--username", "ana", "--email", "ana@example.com",
                                "--password", "a long enough password"], env=env).exit_code == 0
    hook = ["notify", "set", "--user", "ana", "--webhook", "http://127.0.0.1:9/hook"]
    assert runner.invoke(main, hook, env=env).exit_code == 0  # the default allows one
    off = {**env, "ENERTRACK_QUOTA_WEBHOOKS": "0"}
    assert runner.invoke(main, hook, env=off).exit_code == 0  # the same URL again: nothing new
    other = runner.invoke(main, ["notify", "set", "--user", "ana", "--webhook", "http://127.0.0.1:9/other"],
                          env=off)
    assert other.exit_code == 2 and "ENERTRACK_QUOTA_WEBHOOKS=0" in other.output
    cleared = runner.invoke(main, ["notify", "set", "--user", "ana", "--webhook", ""], env=off)
    assert cleared.exit_code == 0 and "webhook: off" in cleared.output
