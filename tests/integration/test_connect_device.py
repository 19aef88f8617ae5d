"""The "Connect a device" panel, its downloads and its snippets, with a real dynamic-security broker."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.config import Settings
from enertrack.db import make_engine
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from enertrack.web.services import nodes
from tests.conftest import create_user, login, make_settings
from tests.dash_client import DashClient
from tests.dynsec_broker import Device, DynsecBroker, dynsec_fixture
from tests.services import free_port, need_binary

FORM = "node-form-modal.is_open"
RENDER = "connect-body.children...connect-regenerate.style"
REGENERATE = "connect-body.children@"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynsecBroker]:
    yield from dynsec_fixture(tmp_path_factory)


def make_app(tmp_path: Path, broker: DynsecBroker, **overrides: str) -> Flask:
    env = {**broker.settings_env(), "ENERTRACK_BROKER_PROVISIONING": "dynsec",
           "ENERTRACK_BROKER_ADMIN_USER": "enertrack-admin",
           "ENERTRACK_BROKER_ADMIN_PASSWORD": "dynsec-admin-secret-pw", **overrides}
    settings: Settings = make_settings(tmp_path, **env)
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    return create_app(settings)


@pytest.fixture
def app(tmp_path: Path, broker: DynsecBroker) -> Iterator[Flask]:
    server = make_app(tmp_path, broker)
    server.extensions["enertrack"].provisioner.sync({}, issue_missing=False)
    yield server
    server.extensions["enertrack"].store.close()
    server.extensions["enertrack"].engine.dispose()


def find(tree: Any, wanted: str) -> Any:
    """The children of the component with id wanted in a Dash response, or None."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == wanted:
            return tree["props"].get("children")
        values = tree.values()
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = find(value, wanted)
        if found is not None:
            return found
    return None


def response(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_json()["response"]


def add_node(dash: DashClient, node_id: str) -> dict[str, Any]:
    return response(dash.call(FORM, [0, [], 0, 1], [{"mode": "add"}, node_id, "", "", 10, None, 0], triggered=3))


def logged_in(app: Flask, client: FlaskClient, name: str = "ana") -> DashClient:
    dash = DashClient(client, app.extensions["dash_app"])
    create_user(app, name, language="en")
    login(client, dash, name)
    return dash


def test_adding_a_node_shows_its_password_once_with_snippets_that_work(
        app: Flask, client: FlaskClient, broker: DynsecBroker, tmp_path: Path) -> None:
    dash = logged_in(app, client)
    added = add_node(dash, "panel-1")
    assert added["node-added-modal"]["is_open"] is True
    password = find(added["node-added-body"]["children"], "added-password")
    assert isinstance(password, str) and len(password) >= 32
    command = find(added["node-added-body"]["children"], "added-snippet-mosquitto_pub")
    assert f"-P {password}" in command and "-t enertrack/panel-1/telemetry" in command
    # The snippet as a user would paste it, with the CA downloaded from the panel's link.
    ca = client.get("/enertrack/broker-ca.crt")
    assert ca.status_code == 200 and ca.data == broker.pki.ca_cert.read_bytes()
    (tmp_path / "enertrack-ca.crt").write_bytes(ca.data)
    pub = need_binary("mosquitto_pub", "apt-get install mosquitto-clients")
    done = subprocess.run([pub, *shlex.split(command)[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    # Shown once: the node page has no password, only how to get a new one.
    page = response(dash.call(RENDER, ["panel-1"]))
    assert password not in str(page) and "Regenerate the credentials" in str(page)
    assert page["connect-regenerate"]["style"] == {}


def test_regenerate_shows_a_new_password_and_the_old_one_stops_working(
        app: Flask, client: FlaskClient, broker: DynsecBroker) -> None:
    dash = logged_in(app, client)
    old = find(add_node(dash, "panel-2")["node-added-body"]["children"], "added-password")
    device = Device(broker, "panel-2", old)
    assert device.connect()
    regenerated = response(dash.call(REGENERATE, [1], ["panel-2"]))
    new = find(regenerated["connect-body"]["children"], "connect-password")
    assert new and new != old
    assert new in find(regenerated["connect-body"]["children"], "connect-snippet-serial")
    assert "New credentials issued" in str(regenerated["toasts"])
    assert device.lost.wait(5)
    device.close()
    assert Device(broker, "panel-2", new).connect()


def test_another_users_node_shows_nothing_and_cannot_be_regenerated(
        app: Flask, client: FlaskClient, broker: DynsecBroker) -> None:
    owner = create_user(app, "owner", language="en")
    with app.extensions["enertrack"].transaction() as db:
        nodes.add_node(db, owner, {"node_id": "not-yours", "interval_s": 10}, None,
                       app.extensions["enertrack"].provisioner)
    dash = logged_in(app, client, "intruder")
    assert response(dash.call(RENDER, ["not-yours"]))["connect-body"]["children"] is None
    refused = response(dash.call(REGENERATE, [1], ["not-yours"]))
    assert "That node does not exist" in str(refused["toasts"]) and "connect-body" not in refused


def test_an_unreachable_broker_adds_nothing_and_says_so(tmp_path: Path, client: FlaskClient,
                                                        broker: DynsecBroker) -> None:
    app = make_app(tmp_path, broker, PUERTO_MQTTS=str(free_port()))
    client = app.test_client()
    dash = logged_in(app, client)
    result = add_node(dash, "panel-down")
    assert "could not create the node's account" in str(result["toasts"])
    assert "node-added-modal" not in result
    assert "panel-down" not in str(response(dash.call("nodes-table.children", [1])))


def test_with_provisioning_off_the_panel_says_who_issues_passwords(tmp_path: Path, broker: DynsecBroker) -> None:
    app = make_app(tmp_path, broker, ENERTRACK_BROKER_PROVISIONING="off", ENERTRACK_DEVICE_MQTT_HOST="mqtt.example.org",
                   ENERTRACK_DEVICE_MQTT_PORT="18883")
    client = app.test_client()
    dash = logged_in(app, client)
    added = add_node(dash, "panel-off")
    assert "node-added-modal" not in added  # nothing to show once
    page = response(dash.call(RENDER, ["panel-off"]))
    assert "Issued by the broker's administrator" in str(page)
    assert page["connect-regenerate"]["style"] == {"display": "none"}
    serial = find(page["connect-body"]["children"], "connect-snippet-serial")
    assert "set mqtt_host mqtt.example.org\nset mqtt_port 18883\n" in serial
    assert "set mqtt_password <password>" in serial


def test_downloads_are_behind_the_login(app: Flask, client: FlaskClient, tmp_path: Path,
                                        broker: DynsecBroker) -> None:
    assert client.get("/enertrack/broker-ca.crt").status_code in (302, 401)
    assert client.get("/enertrack/docs/payload.md").status_code in (302, 401)
    logged_in(app, client)
    contract = client.get("/enertrack/docs/payload.md")
    assert contract.status_code == 200 and b"# The telemetry payload contract" in contract.data
    key_only = tmp_path / "not-a-ca.pem"
    key_only.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    other = make_app(tmp_path / "b", broker, ENERTRACK_DEVICE_CA_FILE=str(key_only))
    other_client = other.test_client()
    logged_in(other, other_client)
    assert other_client.get("/enertrack/broker-ca.crt").status_code == 404  # never a key by mistake


def delete(dash: DashClient, node_id: str) -> dict[str, Any]:
    return response(dash.call("node-delete-modal.is_open", [[0], 0, 1], [node_id, 0],
                              pattern_ids={0: [{"type": "node-delete", "node": node_id}]}, triggered=2))


def test_deleting_on_the_nodes_page_revokes_and_says_what_happened(
        tmp_path: Path, app: Flask, client: FlaskClient, broker: DynsecBroker) -> None:
    from tests.integration.test_node_page import BrokenStore

    dash = logged_in(app, client)
    password = find(add_node(dash, "panel-del")["node-added-body"]["children"], "added-password")
    device = Device(broker, "panel-del", password)
    assert device.connect()
    assert "panel-del" in str(delete(dash, "panel-del")["toasts"])
    assert device.lost.wait(5)
    device.close()
    # The store down after the broker revoked: the node stays, and the message says the account is gone.
    down = make_app(tmp_path / "down", broker)
    down.extensions["enertrack"].store.close()
    down.extensions["enertrack"].store = BrokenStore()
    with down.extensions["enertrack"].transaction() as db:
        nodes.add_node(db, create_user(down, "bea", language="en"), {"node_id": "panel-kept", "interval_s": 10}, None,
                       down.extensions["enertrack"].provisioner)
    down_client = down.test_client()
    down_dash = DashClient(down_client, down.extensions["dash_app"])
    login(down_client, down_dash, "bea")
    said = str(delete(down_dash, "panel-kept")["toasts"])
    assert "node was not deleted, but its broker account is already revoked" in said
    assert "panel-kept" in str(response(down_dash.call("nodes-table.children", [1])))


def test_the_form_refuses_a_service_accounts_name_as_you_type(app: Flask, client: FlaskClient) -> None:
    dash = logged_in(app, client)
    result = response(dash.call("node-form-node_id.invalid", ["enertrack-admin", "", "", 10, None], [{"mode": "add"}]))
    assert result["node-form-node_id"]["invalid"] is True
    assert "service accounts" in result["node-form-node_id-feedback"]["children"]
