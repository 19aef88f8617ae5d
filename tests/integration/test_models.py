"""Users and nodes on SQLite and on a real MariaDB, through the Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

from enertrack.db import make_engine, make_session_factory
from enertrack.migrate import upgrade
from enertrack.models import Base, Node, User
from enertrack.web.services import accounts, nodes


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated to head by Alembic."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'models.sqlite3'}"
    else:
        url = request.getfixturevalue("mysql_url")
    result = make_engine(url)
    upgrade(result)
    yield result
    result.dispose()


def new_account(name: str) -> accounts.NewAccount:
    return accounts.NewAccount(name, f"{name}@example.com", "a long enough password", "a long enough password",
                               "Europe/Madrid", "es")


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_alembic_creates_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"users", "nodes", "alembic_version"} <= tables


def test_user_and_node_round_trip(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as db:
        user = accounts.create_user(db, new_account("ana"))
        nodes.create_node(db, user.id, {"node_id": "Casa-01_b", "description": "Cocina <b>", "location": "Madrid",
                                        "interval_s": "30"})
    with factory() as db:
        stored = db.scalar(select(Node).where(Node.node_id == "Casa-01_b"))
        assert stored is not None
        assert (stored.description, stored.location, stored.interval_s) == ("Cocina <b>", "Madrid", 30)
        assert stored.owner.username == "ana"
        assert stored.created_at is not None and stored.owner.created_at is not None
        assert stored.owner.password_hash.startswith("scrypt:")


def test_usernames_and_emails_are_unique(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as db:
        accounts.create_user(db, new_account("ana"))
    with factory.begin() as db, pytest.raises(accounts.AccountError) as info:
        accounts.create_user(db, accounts.NewAccount("ANA", "Ana@Example.com", "a long enough password",
                                                     "a long enough password", "UTC", "en"))
    assert info.value.errors == {"username": "username_taken", "email": "email_taken"}
    with pytest.raises(IntegrityError), factory.begin() as db:  # the database enforces it too
        db.add(User(username="ana", email="other@example.com", password_hash="x"))


def test_node_ids_are_unique_across_users_and_case_sensitive(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as db:
        ana = accounts.create_user(db, new_account("ana")).id
        bob = accounts.create_user(db, new_account("bob")).id
        nodes.create_node(db, ana, {"node_id": "n1", "interval_s": 10})
    with factory.begin() as db, pytest.raises(nodes.NodeError) as info:
        nodes.create_node(db, bob, {"node_id": "n1", "interval_s": 10})
    assert info.value.errors == {"node_id": "node_id_taken"}
    with factory.begin() as db:  # MQTT topics are case-sensitive: N1 is another device
        nodes.create_node(db, bob, {"node_id": "N1", "interval_s": 10})
    with factory() as db:
        assert [n.node_id for n in nodes.list_nodes(db, bob)] == ["N1"]


def test_deleting_a_user_deletes_their_nodes(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as db:
        ana = accounts.create_user(db, new_account("ana"))
        nodes.create_node(db, ana.id, {"node_id": "n1", "interval_s": 10})
    with factory.begin() as db:
        db.delete(db.get(User, ana.id))
    with factory() as db:
        assert db.scalar(select(Node)) is None


def test_a_user_reaches_only_their_nodes(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as db:
        ana = accounts.create_user(db, new_account("ana")).id
        bob = accounts.create_user(db, new_account("bob")).id
        nodes.create_node(db, ana, {"node_id": "ana-1", "interval_s": 10})
    with factory.begin() as db:
        with pytest.raises(nodes.NodeNotFound):
            nodes.owned(db, bob, "ana-1")
        with pytest.raises(nodes.NodeNotFound):
            nodes.update_node(db, bob, "ana-1", {"description": "mine now", "interval_s": 5})
        with pytest.raises(nodes.NodeNotFound):
            nodes.delete_node(db, None, bob, "ana-1")
        assert nodes.owned_ids(db, bob, ["ana-1"]) == []
    with factory() as db:
        assert nodes.owned(db, ana, "ana-1").description == ""


def test_a_concurrent_duplicate_registration_is_a_clear_error(engine: Engine) -> None:
    """Two requests pass the checks at once; the database's unique constraint decides, politely."""
    factory = make_session_factory(engine)
    with factory() as first, factory() as second:
        accounts.create_user(first, new_account("ana"))
        first.commit()
        form = new_account("ana")
        import enertrack.web.services.accounts as module

        real = module.account_errors
        calls = []

        def stale(session, form):  # type: ignore[no-untyped-def]
            calls.append(1)
            return {} if len(calls) == 1 else real(session, form)  # the first check ran before ana existed

        module.account_errors = stale
        try:
            with pytest.raises(accounts.AccountError) as info:
                accounts.create_user(second, form)
        finally:
            module.account_errors = real
        assert info.value.errors["username"] == "username_taken"
