"""Shared fixtures: settings in a temp dir, a migrated database, the app, users and logins."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from enertrack.config import Settings, load_settings
from enertrack.db import make_engine, make_session_factory
from enertrack.migrate import upgrade
from enertrack.web.app import create_app
from enertrack.web.services import accounts
from tests.dash_client import DashClient
from tests.services import need, port_open

# Fixtures defined in helper modules, registered here (the root conftest) so pytest rewrites their asserts.
pytest_plugins = ["tests.victoria"]

PASSWORD = "correct horse battery staple"
MYSQL_SERVER = os.environ.get("ENERTRACK_TEST_MYSQL_URL", "mysql+mysqldb://root@127.0.0.1:3306")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Development settings isolated in data_dir (never the user's .env)."""
    values: dict[str, Any] = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(data_dir),
                              "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh temp data directory, schema migrated."""
    result = make_settings(tmp_path)
    engine = make_engine(result.sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    return result


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """A fresh app per test (rate limits and database start empty)."""
    server = create_app(settings)
    yield server
    server.extensions["enertrack"].store.close()
    server.extensions["enertrack"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for app."""
    return app.test_client()


@pytest.fixture
def dash(app: Flask, client: FlaskClient) -> DashClient:
    """Call callbacks as client."""
    return DashClient(client, app.extensions["dash_app"])


def create_user(app: Flask, username: str, *, email: str | None = None, language: str = "es",
                timezone: str = "Europe/Madrid") -> int:
    """Add a user directly; returns the id."""
    with app.extensions["enertrack"].transaction() as db:
        user = accounts.create_user(db, accounts.NewAccount(
            username, email or f"{username}@example.com", PASSWORD, PASSWORD, timezone, language))
        return user.id


def login(client: FlaskClient, dash: DashClient, username: str, password: str = PASSWORD,
          **extra: str) -> Any:
    """Log in through the real form POST (with its CSRF token)."""
    token = dash.csrf_token()
    return client.post("/enertrack/login", data={"username": username, "password": password,
                                                 "csrf_token": token, **extra})


@contextmanager
def mariadb_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the MariaDB server at server_url, dropped afterwards; its URL.

    Anything that keeps the tests from using the server skips them with the reason (fails in CI).
    """
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        need(False, "mysqlclient is not installed (pip install '.[mysql]'; needs default-libmysqlclient-dev)")
    url = make_url(server_url)
    where = f"{url.host or 'localhost'}:{url.port or 3306}"
    need(port_open(url.host or "127.0.0.1", url.port or 3306), f"MariaDB is not listening on {where} (make test starts it)")
    name = f"enertrack_test_{uuid.uuid4().hex[:10]}"
    server = make_engine(server_url)
    fix = ("set ENERTRACK_TEST_MYSQL_URL to mysql+mysqldb://USER:PASSWORD@HOST:PORT of an account that may "
           "create databases named enertrack_test_* (make test creates one where root uses unix_socket)")
    try:
        try:
            server.connect().close()
        except OperationalError as exc:
            need(False, f"cannot log in to MariaDB as {url.username}@{where} ({exc.orig}); {fix}")
        try:
            with server.begin() as conn:
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        except OperationalError as exc:
            need(False, f"MariaDB user {url.username}@{where} may not create {name} ({exc.orig}); {fix}")
        try:
            yield f"{server_url.rstrip('/')}/{name}?charset=utf8mb4"
        finally:
            with server.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    finally:
        server.dispose()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A fresh, empty MariaDB database for one test (on ENERTRACK_TEST_MYSQL_URL's server); dropped afterwards."""
    with mariadb_database(MYSQL_SERVER) as url:
        yield url


@pytest.fixture
def sessions(settings: Settings):  # type: ignore[no-untyped-def]
    """A session factory on the migrated SQLite database of settings."""
    engine = make_engine(settings.sqlalchemy_url)
    yield make_session_factory(engine)
    engine.dispose()
