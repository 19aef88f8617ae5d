"""`enertrack node add/credentials/remove` and `enertrack broker sync` against a real dynamic-security broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from enertrack.cli.main import main
from enertrack.db import make_engine, make_session_factory
from enertrack.models import Node, User
from tests.dynsec_broker import ADMIN_PASSWORD, ADMIN_USER, Device, DynsecBroker, dynsec_fixture
from tests.services import free_port

PASSWORD_LINE = re.compile(r"^broker password: (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynsecBroker]:
    yield from dynsec_fixture(tmp_path_factory)


@pytest.fixture
def env(broker: DynsecBroker, tmp_path: Path) -> dict[str, str]:
    found = {**broker.settings_env(), "ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path),
             "ENERTRACK_BROKER_PROVISIONING": "dynsec", "ENERTRACK_BROKER_ADMIN_USER": ADMIN_USER,
             "ENERTRACK_BROKER_ADMIN_PASSWORD": ADMIN_PASSWORD}
    assert run(found, "db", "upgrade").exit_code == 0
    assert run(found, "user", "create", "--username", "ana", "--email", "ana@example.com",
               "--password", "a long enough password").exit_code == 0
    return found


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def password_of(result: Result) -> str:
    found = PASSWORD_LINE.findall(result.output)
    assert len(found) == 1, result.output
    return found[0]


def can_connect(broker: DynsecBroker, user: str, password: str) -> bool:
    device = Device(broker, user, password)
    ok = device.connect(timeout=5)
    device.close()
    return ok


def test_node_add_prints_the_password_once_and_it_connects(broker: DynsecBroker, env: dict[str, str]) -> None:
    added = run(env, "node", "add", "--user", "ana", "--id", "cli-1")
    assert added.exit_code == 0, added.output
    password = password_of(added)
    assert can_connect(broker, "cli-1", password)
    shown = run(env, "node", "credentials", "cli-1")
    assert shown.exit_code == 0 and "password issued by EnerTrack: 20" in shown.output
    assert password not in shown.output  # never shown again


def test_node_credentials_regenerate_replaces_the_password(broker: DynsecBroker, env: dict[str, str]) -> None:
    old = password_of(run(env, "node", "add", "--user", "ana", "--id", "cli-2"))
    regenerated = run(env, "node", "credentials", "cli-2", "--regenerate")
    assert regenerated.exit_code == 0, regenerated.output
    new = password_of(regenerated)
    assert not can_connect(broker, "cli-2", old)
    assert can_connect(broker, "cli-2", new)


def test_node_remove_revokes_the_account(broker: DynsecBroker, env: dict[str, str]) -> None:
    password = password_of(run(env, "node", "add", "--user", "ana", "--id", "cli-3"))
    removed = run(env, "node", "remove", "--user", "ana", "--id", "cli-3", "--yes")
    assert removed.exit_code == 0, removed.output
    assert not can_connect(broker, "cli-3", password)


def test_broker_sync_all_issues_credentials_for_nodes_without(broker: DynsecBroker, env: dict[str, str],
                                                             tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path.resolve() / 'enertrack.sqlite3'}")
    with make_session_factory(engine).begin() as session:  # a node from the days of hand-made accounts
        session.add(Node(node_id="old-node", owner_id=session.scalars(select(User.id)).one()))
    engine.dispose()
    plain = run(env, "broker", "sync")
    assert plain.exit_code == 0, plain.output
    assert "old-node" in plain.output and "broker sync --all" in plain.output
    assert "broker password" not in plain.output
    issued = run(env, "broker", "sync", "--all")
    assert issued.exit_code == 0, issued.output
    assert can_connect(broker, "old-node", password_of(issued))
    again = run(env, "broker", "sync", "--all")
    assert again.exit_code == 0 and "broker password" not in again.output  # nothing left to issue


def test_a_service_account_name_is_refused(env: dict[str, str]) -> None:
    result = run(env, "node", "add", "--user", "ana", "--id", "enertrack-ingest")
    assert result.exit_code == 2
    assert "node_id: That name belongs to one of the broker's service accounts" in result.output


def test_an_unreachable_broker_adds_nothing(env: dict[str, str]) -> None:
    down = {**env, "PUERTO_MQTTS": str(free_port())}
    result = run(down, "node", "add", "--user", "ana", "--id", "cli-down")
    assert result.exit_code == 1
    assert "could not be created, nothing was added" in result.output and "could not be reached" in result.output
    assert "cli-down" not in run(env, "node", "list").output


def test_with_provisioning_off_the_operator_issues_credentials(env: dict[str, str]) -> None:
    off = {**env, "ENERTRACK_BROKER_PROVISIONING": "off"}
    added = run(off, "node", "add", "--user", "ana", "--id", "cli-off")
    assert added.exit_code == 0 and "issued by the broker's operator" in added.output
    regenerated = run(off, "node", "credentials", "cli-off", "--regenerate")
    assert regenerated.exit_code == 2 and "ENERTRACK_BROKER_PROVISIONING is off" in regenerated.output
    synced = run(off, "broker", "sync")
    assert synced.exit_code == 1 and "ENERTRACK_BROKER_PROVISIONING is off" in synced.output
