"""Deleting an account leaves nothing of the user's: every table, the broker, both callers (web and CLI).

The table test reads the tables from the models' metadata: a table added later that refers to
users (by a foreign key, directly or through nodes, sites or rules, or by a declared soft
reference) gets a row of the user's automatically, and fails the test if deletion leaves it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    and_,
    func,
    select,
)

from enertrack.broker import make_provisioner
from enertrack.broker.dynsec import DynsecClient
from enertrack.broker.names import node_role
from enertrack.broker.provisioner import read_state
from enertrack.cli.main import main
from enertrack.db import make_engine, make_session_factory
from enertrack.migrate import upgrade
from enertrack.models import REFERS_TO, Base, Node, User
from enertrack.validation import MESSAGES
from enertrack.web.app import create_app
from enertrack.web.services import nodes
from enertrack.web.services.account_deletion import delete_account
from tests.conftest import PASSWORD, create_user, login, make_settings
from tests.dash_client import DashClient
from tests.dynsec_broker import ADMIN_PASSWORD, ADMIN_USER, Device, DynsecBroker, dynsec_fixture
from tests.services import free_port

# --- every table that refers to a user, read from the metadata ------------------------------------


def reference(column: Column[Any]) -> tuple[str, str] | None:
    """(table, column) this column points at: its foreign key, or a soft reference declared in info."""
    for fk in column.foreign_keys:
        return fk.column.table.name, fk.column.name
    target = column.info.get(REFERS_TO)
    return tuple(target.split(".", 1)) if target else None  # type: ignore[return-value]


def owning_tables() -> list[Table]:
    """Tables whose rows belong to a user, parents before children (users first)."""
    ordered: list[Table] = [Base.metadata.tables["users"]]
    pending = [t for t in Base.metadata.sorted_tables if t.name != "users"]
    while True:
        known = {t.name for t in ordered}
        ready = [t for t in pending
                 if any((ref := reference(c)) and ref[0] in known for c in t.columns)
                 and all((ref := reference(c)) is None or ref[0] in known or ref[0] == t.name for c in t.columns)]
        if not ready:
            stuck = [t.name for t in pending if any((ref := reference(c)) and ref[0] in known for c in t.columns)]
            assert not stuck, f"{stuck} refer to a user's rows and to a table this test cannot fill: extend it"
            return ordered
        ordered += ready
        pending = [t for t in pending if t not in ready]


def sample(column: Column[Any], owner: str) -> Any:
    """A value of the column's type, distinct per owner (unique columns stay unique)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float):
        return 1.0
    if isinstance(kind, Numeric):
        return Decimal("1")
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1)
    if isinstance(kind, Date):
        return date(2026, 1, 1)
    if isinstance(kind, String):
        return f"{owner}-{column.table.name}-{column.name}"[: kind.length or 200]
    raise AssertionError(f"no sample for {column.table.name}.{column.name} ({kind!r}): teach sample() its type")


def generated_key(column: Column[Any]) -> bool:
    return column.primary_key and not column.foreign_keys and isinstance(column.type, Integer)


def insert_rows(conn: Connection, tables: Sequence[Table], owner: str) -> dict[str, Mapping[str, Any]]:
    """One row per table for owner, every column filled, every reference at owner's own parent row."""
    rows: dict[str, Mapping[str, Any]] = {}
    for table in tables:
        values: dict[str, Any] = {}
        for column in table.columns:
            ref = reference(column)
            if ref is not None and ref[0] in rows:
                values[column.name] = rows[ref[0]][ref[1]]
            elif not generated_key(column):
                values[column.name] = sample(column, owner)
        key = conn.execute(table.insert().values(values)).inserted_primary_key
        match = and_(*(c == v for c, v in zip(table.primary_key.columns, key, strict=True)))
        rows[table.name] = conn.execute(select(table).where(match)).mappings().one()
    return rows


def present(conn: Connection, table: Table, row: Mapping[str, Any]) -> bool:
    """True while the row is in its table."""
    match = and_(*(c == row[c.name] for c in table.primary_key.columns))
    return bool(conn.scalar(select(func.count()).select_from(table).where(match)))


def leftovers(conn: Connection, tables: Sequence[Table], rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What still holds one of the owner's rows, or refers to one (by foreign key or soft reference)."""
    found = [f"{table.name} row {dict(rows[table.name])}" for table in tables if present(conn, table, rows[table.name])]
    for table in tables:
        for column in table.columns:
            ref = reference(column)
            if ref is not None and ref[0] in rows:
                count = conn.scalar(select(func.count()).select_from(table).where(column == rows[ref[0]][ref[1]]))
                if count:
                    found.append(f"{count} {table.name} rows whose {column.name} refers to {ref[0]}")
    return found


class RecordingProvisioner:
    """A broker that only writes down which accounts it was asked to revoke."""

    enabled = True
    reserved = frozenset({"enertrack-ingest"})

    def __init__(self) -> None:
        self.revoked: list[str] = []

    def revoke(self, node_id: str) -> None:
        self.revoked.append(node_id)

    def revoke_many(self, node_ids: Sequence[str]) -> None:
        self.revoked.extend(node_ids)


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty users database migrated to head by Alembic (SQLite with its foreign keys on, or MariaDB)."""
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue(
        "mysql_url")
    result = make_engine(url)
    upgrade(result)
    yield result
    result.dispose()


def test_deleting_an_account_leaves_no_row_that_refers_to_the_user(engine: Engine) -> None:
    tables = owning_tables()
    names = {t.name for t in tables}
    # The enumeration finds the tables this test was written against (and any added since).
    assert {"user_sessions", "password_resets", "sites", "tariffs", "nodes", "node_health", "rejected_messages",
            "alert_rules", "alert_tracks", "alert_events", "notify_settings", "alert_deliveries"} <= names
    with engine.begin() as conn:
        anas = insert_rows(conn, tables, "ana")
        beas = insert_rows(conn, tables, "bea")
    broker = RecordingProvisioner()
    with make_session_factory(engine).begin() as db:
        gone = delete_account(db, anas["users"]["id"], store=None, provisioner=broker)
    assert gone == (anas["nodes"]["node_id"],) and broker.revoked == [anas["nodes"]["node_id"]]
    with engine.connect() as conn:
        assert leftovers(conn, tables, anas) == []
        taken = [t.name for t in tables if not present(conn, t, beas[t.name])]
    assert taken == [], f"deleting ana's account took bea's rows from {taken}"


def test_a_node_named_like_a_service_account_keeps_that_account(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.sqlite3'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as db:  # nodes from before provisioning may carry any name
        user = User(username="ana", email="ana@example.com", password_hash="x")
        db.add(user)
        db.flush()
        for node_id in ("casa", "Enertrack-Ingest"):
            db.add(Node(node_id=node_id, owner_id=user.id))
    broker = RecordingProvisioner()
    with factory.begin() as db:
        delete_account(db, user.id, store=None, provisioner=broker)
    assert broker.revoked == ["casa"]
    engine.dispose()


# --- `enertrack user delete` ------------------------------------------------------------------------


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), **extra}


def cli_user(runner: CliRunner, env: dict[str, str], name: str) -> None:
    assert runner.invoke(main, ["user", "create", "--username", name, "--email", f"{name}@example.com",
                                "--password", PASSWORD], env=env).exit_code == 0


def test_the_cli_deletes_an_account_with_its_nodes_rules_and_webhook(tmp_path: Path) -> None:
    env = cli_env(tmp_path, ENERTRACK_WEBHOOK_ALLOW_PRIVATE="true")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    for name in ("ana", "bea"):
        cli_user(runner, env, name)
        assert runner.invoke(main, ["node", "add", "--user", name, "--id", f"{name}-1"], env=env).exit_code == 0
        assert runner.invoke(main, ["alert", "add", "--user", name, "--rule", "offline", "--for", "5m"],
                             env=env).exit_code == 0
    hook = runner.invoke(main, ["notify", "set", "--user", "ana", "--webhook", "http://127.0.0.1:9/hook"],
                         env=env)
    assert hook.exit_code == 0, hook.output
    kept = runner.invoke(main, ["user", "delete", "--username", "ana"], env=env, input="n\n")
    assert kept.exit_code == 1 and "Aborted" in kept.output
    done = runner.invoke(main, ["user", "delete", "--username", "ana", "--yes"], env=env)
    assert done.exit_code == 0 and "user ana deleted with 1 nodes" in done.output
    assert runner.invoke(main, ["alert", "list", "--user", "bea"], env=env).output.count("offline") == 1
    again = runner.invoke(main, ["user", "delete", "--username", "ana", "--yes"], env=env)
    assert again.exit_code == 2 and "no user called 'ana'" in again.output
    engine = make_engine(make_settings(tmp_path).sqlalchemy_url)
    with engine.connect() as conn:
        left = {table: conn.scalar(select(func.count()).select_from(Base.metadata.tables[table]))
                for table in ("users", "nodes", "alert_rules", "notify_settings")}
    engine.dispose()
    assert left == {"users": 1, "nodes": 1, "alert_rules": 1, "notify_settings": 0}  # bea's


# --- broker accounts, with a real Mosquitto and its dynamic-security plugin ---------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynsecBroker]:
    yield from dynsec_fixture(tmp_path_factory)


def broker_clients(broker: DynsecBroker) -> tuple[set[str], set[str]]:
    """The broker's client and role names right now."""
    with DynsecClient(broker.settings()) as admin:
        state = read_state(admin)
    return set(state.clients), set(state.roles)


@pytest.fixture
def dynsec_app(broker: DynsecBroker, tmp_path: Path) -> Iterator[Any]:
    """An app whose nodes get broker accounts, with ana (two nodes, one device connected) and bea (one node)."""
    settings = broker.settings(ENERTRACK_DATA_DIR=str(tmp_path))
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    make_provisioner(settings).sync({}, issue_missing=False)  # the ingest account, refuse by default
    app = create_app(settings)
    services = app.extensions["enertrack"]
    passwords = {}
    for name, node_ids in (("ana", ("ana-a", "ana-b")), ("bea", ("bea-a",))):
        uid = create_user(app, name, language="en")
        for node_id in node_ids:
            with services.transaction() as db:
                added = nodes.add_node(db, uid, {"node_id": node_id, "interval_s": 10}, services.store,
                                       services.provisioner)
            assert added.credentials is not None
            passwords[node_id] = added.credentials.password
    app.config["passwords"] = passwords
    try:
        yield app
    finally:
        services.store.close()
        services.engine.dispose()
        make_provisioner(settings).sync({}, issue_missing=False)  # no accounts left for the next test


def post_delete(app: Any, password: str = PASSWORD) -> Any:
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    login(client, dash, "ana")
    return client.post("/enertrack/account/delete", data={"password": password, "csrf_token": dash.csrf_token()})


def user_exists(app: Any, name: str) -> bool:
    with app.extensions["enertrack"].read() as db:
        return db.scalar(select(User.id).where(User.username == name)) is not None


def test_deleting_an_account_on_the_web_revokes_every_node_broker_account(
        broker: DynsecBroker, dynsec_app: Any) -> None:
    device = Device(broker, "ana-a", dynsec_app.config["passwords"]["ana-a"])
    assert device.connect()
    done = post_delete(dynsec_app)
    assert (done.status_code, done.headers["Location"]) == (303, "/enertrack/login")
    assert device.lost.wait(5), "the deleted account's device is still connected"
    device.close()
    clients, roles = broker_clients(broker)
    assert not {"ana-a", "ana-b"} & clients and not {node_role("ana-a"), node_role("ana-b")} & roles
    assert "bea-a" in clients and node_role("bea-a") in roles  # someone else's account stays
    assert not user_exists(dynsec_app, "ana")


def test_a_broker_that_is_down_keeps_the_account_and_says_so(broker: DynsecBroker, dynsec_app: Any) -> None:
    services = dynsec_app.extensions["enertrack"]
    down = make_provisioner(broker.settings(PUERTO_MQTTS=str(free_port())))
    real, services.provisioner = services.provisioner, down
    try:
        refused = post_delete(dynsec_app)
    finally:
        services.provisioner = real
    assert refused.status_code == 303
    assert parse_qs(urlsplit(refused.headers["Location"]).query)["errors"] == ["delete:delete_broker"]
    assert user_exists(dynsec_app, "ana")
    with services.read() as db:
        assert [n.node_id for n in nodes.list_nodes(db, user_id_of(dynsec_app, "ana"))] == ["ana-a", "ana-b"]
    device = Device(broker, "ana-a", dynsec_app.config["passwords"]["ana-a"])
    assert device.connect(), "the kept account lost its broker account"
    device.close()
    client = dynsec_app.test_client()
    dash = DashClient(client, dynsec_app.extensions["dash_app"])
    login(client, dash, "ana")
    page = dash.call("_pages_content.children", ["/enertrack/profile", "?errors=delete:delete_broker", "en"])
    assert MESSAGES["delete_broker"] in page.get_data(as_text=True)


def user_id_of(app: Any, name: str) -> int:
    with app.extensions["enertrack"].read() as db:
        return int(db.scalars(select(User.id).where(User.username == name)).one())


def test_the_cli_deletion_revokes_the_broker_accounts_and_a_down_broker_keeps_all(
        broker: DynsecBroker, dynsec_app: Any, tmp_path: Path) -> None:
    env = {**broker.settings_env(), "ENERTRACK_BROKER_PROVISIONING": "dynsec",
           "ENERTRACK_BROKER_ADMIN_USER": ADMIN_USER, "ENERTRACK_BROKER_ADMIN_PASSWORD": ADMIN_PASSWORD,
           **cli_env(tmp_path)}
    runner = CliRunner()
    down = runner.invoke(main, ["user", "delete", "--username", "ana", "--yes"],
                         env={**env, "PUERTO_MQTTS": str(free_port())})
    assert down.exit_code == 1 and "nothing was deleted" in down.output
    assert user_exists(dynsec_app, "ana") and {"ana-a", "ana-b"} <= broker_clients(broker)[0]
    done = runner.invoke(main, ["user", "delete", "--username", "ana", "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert not {"ana-a", "ana-b"} & broker_clients(broker)[0]
    assert not user_exists(dynsec_app, "ana") and user_exists(dynsec_app, "bea")
