"""Per-user quotas: the node quota holds on the web page and in the CLI; the others are settings."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from enertrack.cli.main import main
from enertrack.config import load_settings
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from tests.conftest import create_user, login, make_settings
from tests.dash_client import DashClient
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
    assert (settings.quota_nodes, settings.quota_alert_rules, settings.quota_webhooks) == (100, 50, 10)
