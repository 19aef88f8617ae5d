"""The pure rules of node broker accounts: reserved names, ACLs, passwords."""

from __future__ import annotations

import pytest

from enertrack.broker import names
from enertrack.broker.provisioner import same_acls
from enertrack.config import load_settings

DEV = {"ENERTRACK_ENV": "development", "_env_file": None}


@pytest.mark.parametrize(("node_id", "reserved"), [
    ("enertrack-ingest", True), ("ENERTRACK-INGEST", True), ("enertrack-demo", True), ("admin", True),
    ("enertrack-admin", True), ("site-reader", True), ("ops-admin", True),
    ("casa-1", False), ("enertrack-ingest-2", False), ("administrator", False),
])
def test_service_account_names_are_reserved_whatever_their_case(node_id: str, reserved: bool) -> None:
    settings = load_settings(**DEV, MQTT_USR="site-reader", ENERTRACK_BROKER_ADMIN_USER="Ops-Admin")
    assert names.is_reserved(node_id, names.reserved_names(settings)) is reserved


def test_a_node_may_publish_only_under_its_own_id() -> None:
    assert names.node_acls("site/a", "n1") == [
        {"acltype": "publishClientSend", "topic": "site/a/n1/#", "allow": True, "priority": 0}]


def test_the_ingest_role_only_subscribes_to_the_daemons_filters() -> None:
    assert {(acl["acltype"], acl["topic"]) for acl in names.ingest_acls("site/a")} == {
        ("subscribeLiteral", "site/a/+/telemetry"), ("subscribeLiteral", "site/a/+/status")}


def test_passwords_are_long_random_and_paste_safe() -> None:
    passwords = {names.new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 32 and p.replace("-", "").replace("_", "").isalnum() for p in passwords)


def test_only_the_hash_matches_the_password() -> None:
    hashed = names.hash_password("secret-1")
    assert "secret-1" not in hashed
    assert names.password_matches(hashed, "secret-1") and not names.password_matches(hashed, "secret-2")
    assert not names.password_matches(None, "secret-1")


def test_acls_compare_without_priorities_or_order() -> None:
    wanted = names.ingest_acls("p")
    assert same_acls([{**a, "priority": 5} for a in reversed(wanted)], wanted)
    assert not same_acls(wanted[:1], wanted) and not same_acls(None, wanted)
