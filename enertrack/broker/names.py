"""Pure rules of the broker accounts: names, roles, ACLs, reserved names, passwords and their hashes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from werkzeug.security import check_password_hash, generate_password_hash

from enertrack.config import Settings

NODE_ROLE_PREFIX = "enertrack-node-"
INGEST_ROLE = "enertrack-ingest"
# The textname EnerTrack gives the accounts it creates: `broker sync` removes only those.
NODE_TEXTNAME = "EnerTrack node"
PASSWORD_BYTES = 24  # 32 URL-safe characters: 192 random bits
HASH_METHOD = "scrypt"

# Accounts that are never a node's: the ingest daemon's default, the demo's (deploy/acl), and the
# dynamic-security admin as docs/operations.md and Mosquitto's own documentation name it. The
# configured MQTT_USR and ENERTRACK_BROKER_ADMIN_USER are added per installation.
RESERVED_ALWAYS = frozenset({"enertrack-ingest", "enertrack-demo", "enertrack-admin", "admin"})


def reserved_names(settings: Settings) -> frozenset[str]:
    """Lower-cased names a node id may not take in this installation."""
    configured = (settings.mqtt_user, settings.broker_admin_user)
    return RESERVED_ALWAYS | {name.lower() for name in configured if name}


def is_reserved(node_id: str, reserved: Iterable[str]) -> bool:
    """True when node_id is a service account's name, whatever its case."""
    return node_id.lower() in set(reserved)


def node_role(node_id: str) -> str:
    """The dynamic-security role of one node."""
    return NODE_ROLE_PREFIX + node_id


def node_acls(prefix: str, node_id: str) -> list[dict[str, object]]:
    """A node may publish under its own topic only (telemetry, and status with its Last Will)."""
    return [{"acltype": "publishClientSend", "topic": f"{prefix}/{node_id}/#", "allow": True, "priority": 0}]


def ingest_acls(prefix: str) -> list[dict[str, object]]:
    """The ingest account may subscribe to exactly the daemon's two filters, and publish nothing.

    Literal filters, as deploy/compose/mosquitto-init.sh makes them (receiving is allowed by default),
    so `broker sync` and the compose stack's first start agree on the role.
    """
    return [
        {"acltype": "subscribeLiteral", "topic": f"{prefix}/+/telemetry", "allow": True, "priority": 0},
        {"acltype": "subscribeLiteral", "topic": f"{prefix}/+/status", "allow": True, "priority": 0},
    ]


# Anything no role allows is refused: publishing, subscribing; receiving and unsubscribing are
# harmless once a subscription was allowed (Mosquitto's own defaults for those two).
DEFAULT_ACL_ACCESS = [
    {"acltype": "publishClientSend", "allow": False},
    {"acltype": "publishClientReceive", "allow": True},
    {"acltype": "subscribe", "allow": False},
    {"acltype": "unsubscribe", "allow": True},
]


def new_password() -> str:
    """A strong random password, safe to paste into a shell, YAML or a C string."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str) -> str:
    """What EnerTrack keeps of a node's password."""
    return generate_password_hash(password, method=HASH_METHOD)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True when password is the one stored_hash was made from."""
    return bool(stored_hash) and check_password_hash(stored_hash or "", password)
