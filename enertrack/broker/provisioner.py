"""Who issues a node's broker credentials: nobody (`off`, the operator does) or EnerTrack over dynamic security."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from enertrack.broker import names
from enertrack.broker.dynsec import BrokerError, BrokerRefused, Command, DynsecClient
from enertrack.config import Settings

CLIENT_NOT_FOUND = "Client not found"
ROLE_NOT_FOUND = "Role not found"
REVOKE_BATCH = 50  # nodes revoked per dynsec message (two commands each): one connection, bounded messages


@dataclass(frozen=True)
class BrokerState:
    """What the broker holds: every client with its textname and roles, every role with its ACLs."""

    clients: dict[str, tuple[str, frozenset[str]]]
    roles: dict[str, list[dict[str, object]]]


@dataclass
class SyncReport:
    """What `broker sync` changed, and which nodes still have no working credentials."""

    removed_clients: list[str] = field(default_factory=list)
    removed_roles: list[str] = field(default_factory=list)
    fixed_roles: list[str] = field(default_factory=list)
    needs_credentials: list[str] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)  # node id -> new password, shown once


class Provisioner(Protocol):
    """Creates, replaces and revokes nodes' broker accounts."""

    enabled: bool
    reserved: frozenset[str]  # lower-cased names no node may take (service accounts)

    def issue(self, node_id: str) -> str | None:
        """Give node_id a new password (replacing any account of that name); None when provisioning is off."""

    def revoke(self, node_id: str) -> None:
        """Remove node_id's account at once (disconnecting it); no error when there is none."""

    def revoke_many(self, node_ids: Sequence[str]) -> None:
        """revoke for each of node_ids, over one admin connection (deleting an account)."""

    def sync(self, nodes: dict[str, bool], *, issue_missing: bool) -> SyncReport:
        """Make the broker match nodes (node id -> EnerTrack issued its credentials)."""


class OffProvisioner:
    """The operator manages the broker's accounts by hand (deploy/acl and mosquitto_passwd)."""

    enabled = False

    def __init__(self, settings: Settings) -> None:
        self.reserved = names.reserved_names(settings)

    def issue(self, node_id: str) -> str | None:
        """Nothing to issue: the operator gives the device its password."""
        return None

    def revoke(self, node_id: str) -> None:
        """Nothing to revoke here: the operator removes the account."""

    def revoke_many(self, node_ids: Sequence[str]) -> None:
        """Nothing to revoke here: the operator removes the accounts."""

    def sync(self, nodes: dict[str, bool], *, issue_missing: bool) -> SyncReport:
        """There is no broker to match: say how to turn provisioning on."""
        raise BrokerError("ENERTRACK_BROKER_PROVISIONING is off: EnerTrack manages no broker accounts. Set it to "
                          "dynsec, with ENERTRACK_BROKER_ADMIN_USER and ENERTRACK_BROKER_ADMIN_PASSWORD "
                          "(docs/operations.md)")


class DynsecProvisioner:
    """Each node a client named by its id with its own role; the ingest account subscribe-only."""

    enabled = True

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self.settings = settings
        self.prefix = settings.mqtt_topic_prefix
        self.reserved = names.reserved_names(settings)
        self.timeout = timeout

    def _admin(self) -> DynsecClient:
        return DynsecClient(self.settings) if self.timeout is None else DynsecClient(self.settings,
                                                                                     timeout=self.timeout)

    def _refuse_reserved(self, node_id: str) -> None:
        if names.is_reserved(node_id, self.reserved):
            raise BrokerRefused(f"an account for {node_id}", "that name belongs to a service account")

    def _replace(self, node_id: str, password: str) -> list[Command]:
        role = names.node_role(node_id)
        return [
            # Deleting the client disconnects a device still using the old password at once.
            {"command": "deleteClient", "username": node_id},
            {"command": "deleteRole", "rolename": role},
            {"command": "createRole", "rolename": role, "acls": names.node_acls(self.prefix, node_id)},
            {"command": "createClient", "username": node_id, "password": password,
             "textname": names.NODE_TEXTNAME, "roles": [{"rolename": role}]},
        ]

    def issue(self, node_id: str) -> str:
        """A new password for node_id; whatever account had that name before is gone and disconnected."""
        self._refuse_reserved(node_id)
        password = names.new_password()
        with self._admin() as admin:
            admin.run(self._replace(node_id, password), tolerate=(CLIENT_NOT_FOUND, ROLE_NOT_FOUND))
        return password

    def revoke(self, node_id: str) -> None:
        """Delete node_id's client and role (the client is disconnected at once)."""
        self.revoke_many([node_id])

    def revoke_many(self, node_ids: Sequence[str]) -> None:
        """Delete each node's client and role over one connection; a reserved name refuses them all."""
        for node_id in node_ids:
            self._refuse_reserved(node_id)
        if not node_ids:
            return
        with self._admin() as admin:
            for start in range(0, len(node_ids), REVOKE_BATCH):
                admin.run([command for node_id in node_ids[start:start + REVOKE_BATCH]
                           for command in ({"command": "deleteClient", "username": node_id},
                                           {"command": "deleteRole", "rolename": names.node_role(node_id)})],
                          tolerate=(CLIENT_NOT_FOUND, ROLE_NOT_FOUND))

    def sync(self, nodes: dict[str, bool], *, issue_missing: bool) -> SyncReport:
        """Make the broker match nodes (node id -> EnerTrack issued its credentials); see docs/operations.md."""
        report = SyncReport()
        with self._admin() as admin:
            state = read_state(admin)
            self._sync_service_accounts(admin, state, report)
            for username, (textname, _roles) in sorted(state.clients.items()):
                if textname == names.NODE_TEXTNAME and username not in nodes:
                    admin.one({"command": "deleteClient", "username": username}, tolerate=(CLIENT_NOT_FOUND,))
                    report.removed_clients.append(username)
            for role in sorted(state.roles):
                node_id = role.removeprefix(names.NODE_ROLE_PREFIX)
                if role.startswith(names.NODE_ROLE_PREFIX) and node_id not in nodes:
                    admin.one({"command": "deleteRole", "rolename": role}, tolerate=(ROLE_NOT_FOUND,))
                    report.removed_roles.append(role)
            for node_id, issued in sorted(nodes.items()):
                if names.is_reserved(node_id, self.reserved):
                    continue  # an old node named like a service account: never given an account
                self._sync_node(admin, state, node_id, issued, report, issue_missing)
        return report

    def _sync_node(self, admin: DynsecClient, state: BrokerState, node_id: str, issued: bool,
                   report: SyncReport, issue_missing: bool) -> None:
        client = state.clients.get(node_id)
        working = issued and client is not None and client[0] == names.NODE_TEXTNAME
        if not working:
            if issue_missing:
                password = names.new_password()
                admin.run(self._replace(node_id, password), tolerate=(CLIENT_NOT_FOUND, ROLE_NOT_FOUND))
                report.issued[node_id] = password
            else:
                report.needs_credentials.append(node_id)
            return
        role = names.node_role(node_id)
        if not same_acls(state.roles.get(role), names.node_acls(self.prefix, node_id)):
            ensure_role(admin, role, names.node_acls(self.prefix, node_id), exists=role in state.roles)
            report.fixed_roles.append(role)
        if client is not None and role not in client[1]:
            admin.one({"command": "addClientRole", "username": node_id, "rolename": role})

    def _sync_service_accounts(self, admin: DynsecClient, state: BrokerState, report: SyncReport) -> None:
        """Refuse by default, and keep the ingest account (MQTT_USR) subscribe-only."""
        admin.one({"command": "setDefaultACLAccess", "acls": names.DEFAULT_ACL_ACCESS})
        acls = names.ingest_acls(self.prefix)
        if not same_acls(state.roles.get(names.INGEST_ROLE), acls):
            ensure_role(admin, names.INGEST_ROLE, acls, exists=names.INGEST_ROLE in state.roles)
            report.fixed_roles.append(names.INGEST_ROLE)
        user, password = self.settings.mqtt_user, self.settings.mqtt_password
        if not user:
            return
        if user not in state.clients and password is not None:
            admin.one({"command": "createClient", "username": user, "password": password.get_secret_value(),
                       "textname": "EnerTrack ingest", "roles": [{"rolename": names.INGEST_ROLE}]})
        elif user in state.clients and names.INGEST_ROLE not in state.clients[user][1]:
            admin.one({"command": "addClientRole", "username": user, "rolename": names.INGEST_ROLE})


def ensure_role(admin: DynsecClient, role: str, acls: list[dict[str, object]], *, exists: bool) -> None:
    """Give role exactly acls: its clients keep it (ACLs are replaced one by one, not the role)."""
    if not exists:
        admin.one({"command": "createRole", "rolename": role, "acls": acls})
        return
    current = admin.one({"command": "getRole", "rolename": role}).get("data", {}).get("role", {}).get("acls", [])
    admin.run([{"command": "removeRoleACL", "rolename": role, "acltype": a["acltype"], "topic": a["topic"]}
               for a in current])
    admin.run([{"command": "addRoleACL", "rolename": role, **acl} for acl in acls])


def _acl_key(acl: dict[str, object]) -> tuple[str, str, bool]:
    return str(acl.get("acltype")), str(acl.get("topic")), bool(acl.get("allow"))


def same_acls(current: list[dict[str, object]] | None, wanted: list[dict[str, object]]) -> bool:
    """True when a role's ACLs are exactly wanted (priorities aside)."""
    return current is not None and sorted(map(_acl_key, current)) == sorted(map(_acl_key, wanted))


def read_state(admin: DynsecClient) -> BrokerState:
    """Every client and role the plugin holds."""
    clients_answer, roles_answer = admin.run([
        {"command": "listClients", "verbose": True, "count": -1, "offset": 0},
        {"command": "listRoles", "verbose": True, "count": -1, "offset": 0},
    ])
    clients = {
        str(c["username"]): (str(c.get("textname", "")), frozenset(str(r["rolename"]) for r in c.get("roles", [])))
        for c in clients_answer.get("data", {}).get("clients", []) if isinstance(c, dict)
    }
    roles = {str(r["rolename"]): list(r.get("acls", []))
             for r in roles_answer.get("data", {}).get("roles", []) if isinstance(r, dict)}
    return BrokerState(clients, roles)


def make_provisioner(settings: Settings) -> Provisioner:
    """The provisioner ENERTRACK_BROKER_PROVISIONING selects."""
    return DynsecProvisioner(settings) if settings.broker_provisioning == "dynsec" else OffProvisioner(settings)


__all__ = ["BrokerError", "DynsecProvisioner", "OffProvisioner", "Provisioner", "SyncReport", "make_provisioner"]
