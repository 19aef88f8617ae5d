"""Per-node broker credentials against a real Mosquitto with the dynamic-security plugin, over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from enertrack.broker import BrokerRefused, BrokerUnavailable, make_provisioner
from enertrack.broker.names import password_matches
from enertrack.db import make_engine, make_session_factory
from enertrack.migrate import upgrade
from enertrack.models import Node, User
from enertrack.web.services import nodes
from tests.dynsec_broker import ADMIN_USER, Device, DynsecBroker, dynsec_fixture
from tests.ingest_process import IngestProcess, make_users_db
from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER
from tests.services import free_port


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynsecBroker]:
    yield from dynsec_fixture(tmp_path_factory)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add_all([User(username=name, email=f"{name}@example.org", password_hash="x")
                         for name in ("alice", "bob")])
    yield factory
    engine.dispose()


def uid(factory: sessionmaker[Session], name: str) -> int:
    with factory() as session:
        return session.scalars(select(User.id).where(User.username == name)).one()


@pytest.fixture
def provisioner(broker: DynsecBroker) -> Any:
    found = make_provisioner(broker.settings())
    found.sync({}, issue_missing=False)  # the ingest account and the refuse-by-default ACL
    return found


def add(factory: sessionmaker[Session], provisioner: Any, owner: str, node_id: str) -> str:
    """Add a node through the service and return its password."""
    with factory.begin() as session:
        added = nodes.add_node(session, uid(factory, owner), {"node_id": node_id, "interval_s": 10}, None,
                               provisioner)
    assert added.credentials is not None and added.credentials.username == node_id
    return added.credentials.password


def connected(broker: DynsecBroker, user: str, password: str) -> Device:
    device = Device(broker, user, password)
    assert device.connect(), f"{user} was refused: {device.refused}"
    return device


def refused(broker: DynsecBroker, user: str, password: str | None) -> bool:
    device = Device(broker, user, password or "")
    if password is None:
        device.client.username_pw_set(None)
    ok = device.connect(timeout=5)
    device.close()
    return not ok and device.refused == ["Not authorized"]


def test_a_nodes_credentials_publish_into_its_own_topic_and_are_stored(
        broker: DynsecBroker, provisioner: Any, tmp_path: Path) -> None:
    ingest = IngestProcess(tmp_path / "ingest", broker)
    ingest.workdir.mkdir()
    make_users_db(ingest.users_url, [])
    factory = make_session_factory(make_engine(ingest.users_url))
    with factory.begin() as session:
        owner = session.scalars(select(User.id)).one()
        added = nodes.add_node(session, owner, {"node_id": "casa-1", "interval_s": 10}, None, provisioner)
    assert added.credentials is not None
    ingest.start()
    try:
        device = connected(broker, "casa-1", added.credentials.password)
        assert device.publish("enertrack/casa-1/telemetry", '{"ts": 1750000000, "p": 100.0}') == "accepted"
        assert device.publish("enertrack/casa-1/status", "online") == "accepted"
        assert device.publish("enertrack/other-node/telemetry", '{"ts": 1750000001, "p": 1.0}') == "Not authorized"
        assert device.publish("enertrack/casa-1-x/telemetry", '{"ts": 1750000002, "p": 1.0}') == "Not authorized"
        device.close()
        assert ingest.wait_stored(["casa-1"], 1) == [("casa-1", 1750000000)]
    finally:
        ingest.stop()


def test_wrong_password_anonymous_and_publishing_ingest_are_refused(
        broker: DynsecBroker, provisioner: Any, db: sessionmaker[Session]) -> None:
    password = add(db, provisioner, "alice", "n-wrong")
    assert refused(broker, "n-wrong", password + "x")
    assert refused(broker, "n-wrong", None)
    assert refused(broker, "", None)
    ingest = connected(broker, INGEST_USER, INGEST_PASSWORD)
    assert ingest.publish("enertrack/n-wrong/telemetry", '{"p": 1}') == "Not authorized"
    ingest.close()


def test_only_a_hash_of_the_password_is_stored(provisioner: Any, db: sessionmaker[Session]) -> None:
    password = add(db, provisioner, "alice", "n-hash")
    with db() as session:
        stored = session.scalars(select(Node.broker_password_hash).where(Node.node_id == "n-hash")).one()
    assert stored and password not in stored and password_matches(stored, password)
    assert len(password) >= 32


def test_regenerate_cuts_off_the_connected_device_and_the_old_password(
        broker: DynsecBroker, provisioner: Any, db: sessionmaker[Session]) -> None:
    old = add(db, provisioner, "alice", "n-regen")
    device = connected(broker, "n-regen", old)
    with db.begin() as session:
        new = nodes.regenerate_credentials(session, uid(db, "alice"), "n-regen", provisioner).password
    assert device.lost.wait(5), "the device using the old password is still connected"
    device.close()
    assert new != old
    assert refused(broker, "n-regen", old)
    fresh = connected(broker, "n-regen", new)
    assert fresh.publish("enertrack/n-regen/telemetry", '{"p": 1}') == "accepted"
    fresh.close()


def test_delete_cuts_off_the_connected_device(broker: DynsecBroker, provisioner: Any,
                                              db: sessionmaker[Session]) -> None:
    password = add(db, provisioner, "alice", "n-gone")
    device = connected(broker, "n-gone", password)
    with db.begin() as session:
        nodes.remove_node(session, None, uid(db, "alice"), "n-gone", provisioner)
    assert device.lost.wait(5), "the deleted node's device is still connected"
    device.close()
    assert refused(broker, "n-gone", password)


def test_a_re_added_id_refuses_the_previous_owners_device(broker: DynsecBroker, provisioner: Any,
                                                           db: sessionmaker[Session]) -> None:
    alices = add(db, provisioner, "alice", "shared-id")
    alice_device = connected(broker, "shared-id", alices)
    with db.begin() as session:
        nodes.remove_node(session, None, uid(db, "alice"), "shared-id", provisioner)
    bobs = add(db, provisioner, "bob", "shared-id")
    assert alice_device.lost.wait(5)
    alice_device.close()
    assert refused(broker, "shared-id", alices)
    bob_device = connected(broker, "shared-id", bobs)
    assert bob_device.publish("enertrack/shared-id/telemetry", '{"p": 1}') == "accepted"
    bob_device.close()


@pytest.mark.parametrize("name", [INGEST_USER, ADMIN_USER, "enertrack-demo", "Admin", "ENERTRACK-INGEST"])
def test_a_node_named_like_a_service_account_is_refused(broker: DynsecBroker, provisioner: Any,
                                                        db: sessionmaker[Session], name: str) -> None:
    with pytest.raises(nodes.NodeError) as caught, db.begin() as session:
        nodes.add_node(session, uid(db, "alice"), {"node_id": name, "interval_s": 10}, None, provisioner)
    assert caught.value.errors == {"node_id": "node_id_reserved"}
    with pytest.raises(BrokerRefused):
        provisioner.issue(name)  # the provisioner refuses too, whoever calls it
    with db() as session:
        assert session.scalars(select(Node)).all() == []
    connected(broker, INGEST_USER, INGEST_PASSWORD).close()  # the service account is untouched


def test_a_configured_ingest_name_is_reserved(broker: DynsecBroker, db: sessionmaker[Session]) -> None:
    custom = make_provisioner(broker.settings(MQTT_USR="site-reader"))
    with db() as session:
        errors = nodes.form_errors(session, {"node_id": "site-reader", "interval_s": 10}, new=True,
                                   reserved=custom.reserved)
    assert errors == {"node_id": "node_id_reserved"}


def test_an_unreachable_broker_leaves_node_and_credentials_as_they_were(
        broker: DynsecBroker, provisioner: Any, db: sessionmaker[Session]) -> None:
    password = add(db, provisioner, "alice", "n-kept")
    with db() as session:
        before = session.scalars(select(Node.broker_password_hash).where(Node.node_id == "n-kept")).one()
    down = make_provisioner(broker.settings(PUERTO_MQTTS=str(free_port())))
    alice = uid(db, "alice")
    with pytest.raises(BrokerUnavailable, match="could not be reached"), db.begin() as session:
        nodes.add_node(session, alice, {"node_id": "n-new", "interval_s": 10}, None, down)
    with pytest.raises(BrokerUnavailable), db.begin() as session:
        nodes.remove_node(session, None, alice, "n-kept", down)
    with pytest.raises(BrokerUnavailable), db.begin() as session:
        nodes.regenerate_credentials(session, alice, "n-kept", down)
    with db() as session:
        assert session.scalars(select(Node.node_id)).all() == ["n-kept"]
        assert session.scalars(select(Node.broker_password_hash)).one() == before
    connected(broker, "n-kept", password).close()


def test_a_wrong_admin_password_says_which_settings_to_check(broker: DynsecBroker) -> None:
    wrong = make_provisioner(broker.settings(ENERTRACK_BROKER_ADMIN_PASSWORD="not-it"))
    with pytest.raises(BrokerUnavailable, match="ENERTRACK_BROKER_ADMIN_PASSWORD"):
        wrong.issue("n-any")


def test_sync_removes_stale_accounts_and_issues_missing_ones(broker: DynsecBroker, provisioner: Any,
                                                             db: sessionmaker[Session]) -> None:
    stale = provisioner.issue("n-stale")  # an account whose node never reached the database
    kept = add(db, provisioner, "alice", "n-synced")
    with db.begin() as session:  # a node from before provisioning: no credentials yet
        session.add(Node(node_id="n-handmade", owner_id=uid(db, "alice")))
    with db.begin() as session:
        report = nodes.sync_broker(session, provisioner, issue_missing=False)
    assert "n-stale" in report.removed_clients and report.needs_credentials == ["n-handmade"]
    assert refused(broker, "n-stale", stale)
    with db.begin() as session:
        report = nodes.sync_broker(session, provisioner, issue_missing=True)
    assert list(report.issued) == ["n-handmade"]
    with db() as session:
        stored = session.scalars(select(Node.broker_password_hash).where(Node.node_id == "n-handmade")).one()
    assert password_matches(stored, report.issued["n-handmade"])
    connected(broker, "n-handmade", report.issued["n-handmade"]).close()
    connected(broker, "n-synced", kept).close()  # sync leaves working accounts alone


def test_a_node_whose_transaction_rolls_back_keeps_no_account(broker: DynsecBroker, provisioner: Any,
                                                              db: sessionmaker[Session]) -> None:
    # A commit that fails after the broker call (here: an error later in the same transaction).
    with pytest.raises(RuntimeError), db.begin() as session:
        added = nodes.add_node(session, uid(db, "alice"), {"node_id": "n-rolled", "interval_s": 10}, None,
                               provisioner)
        raise RuntimeError("the commit failed")
    assert added.credentials is not None
    assert refused(broker, "n-rolled", added.credentials.password)
    kept = add(db, provisioner, "alice", "n-committed")  # a committed one keeps its account
    connected(broker, "n-committed", kept).close()


def test_a_broker_without_the_plugin_is_named_as_such(tmp_path: Path) -> None:
    from enertrack.config import load_settings
    from tests.mqtt_broker import Broker

    plain = Broker(tmp_path / "plain", users={INGEST_USER: INGEST_PASSWORD, ADMIN_USER: "admin-pw"})
    with plain:
        settings = load_settings(_env_file=None, ENERTRACK_ENV="development", **plain.settings_env(),
                                 ENERTRACK_BROKER_PROVISIONING="dynsec", ENERTRACK_BROKER_ADMIN_USER=ADMIN_USER,
                                 ENERTRACK_BROKER_ADMIN_PASSWORD="admin-pw")
        with pytest.raises(BrokerUnavailable, match="dynamic-security plugin|dynamic security"):
            make_provisioner(settings).issue("n-plain")


def test_sync_rewrites_the_roles_for_a_new_topic_prefix(broker: DynsecBroker, provisioner: Any,
                                                        db: sessionmaker[Session]) -> None:
    password = add(db, provisioner, "alice", "n-moved")
    moved = make_provisioner(broker.settings(MQTT_TOPIC_PREFIX="site/a"))
    try:
        with db.begin() as session:
            report = nodes.sync_broker(session, moved, issue_missing=False)
        assert {"enertrack-node-n-moved", "enertrack-ingest"} <= set(report.fixed_roles)
        device = connected(broker, "n-moved", password)  # the same password, the new topic
        assert device.publish("site/a/n-moved/telemetry", '{"p": 1}') == "accepted"
        assert device.publish("enertrack/n-moved/telemetry", '{"p": 1}') == "Not authorized"
        device.close()
        with db.begin() as session:
            assert nodes.sync_broker(session, moved, issue_missing=False).fixed_roles == []  # nothing left to do
    finally:
        provisioner.sync({}, issue_missing=False)  # back to the default prefix for the other tests
