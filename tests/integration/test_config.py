"""Settings: the original variable names are honoured, bad values get one clear line each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from enertrack.config import ConfigError, load_settings

DEV = {"ENERTRACK_ENV": "development", "_env_file": None}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set exactly the variables they mean to."""
    import os

    for name in list(os.environ):
        if name.startswith(("MYSQL_", "INFLUX_", "MQTT_", "ENERTRACK_", "INGEST_")) or name in (
            "DATABASE_URL", "DOMINIO", "PUERTO_MQTTS", "FLASK_SECRET_KEY", "RATELIMIT_STORAGE_URI"):
            monkeypatch.delenv(name, raising=False)


def test_mysql_names_build_a_mariadb_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"MYSQL_USER": "energia", "MYSQL_PASSWORD": "p@ss:w/rd", "MYSQL_DB": "enertrack",
                        "MYSQL_HOST": "db.example.org"}.items():
        monkeypatch.setenv(name, value)
    url = make_url(load_settings(**DEV).sqlalchemy_url)
    assert url.drivername == "mysql+mysqldb"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "energia", "p@ss:w/rd", "db.example.org", 3306, "enertrack")
    assert url.query["charset"] == "utf8mb4"


def test_database_url_overrides_mysql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSQL_USER", "energia")
    monkeypatch.setenv("MYSQL_DB", "enertrack")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/other.sqlite3")
    assert load_settings(**DEV).sqlalchemy_url == "sqlite:////tmp/other.sqlite3"


def test_default_is_sqlite_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENERTRACK_DATA_DIR", str(tmp_path))
    settings = load_settings(**DEV)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'enertrack.sqlite3'}"
    assert settings.store_kind == "sqlite"
    assert settings.tsdb_file == tmp_path.resolve() / "timeseries.sqlite3"


def test_influx_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"INFLUX_URL": "http://influx:8086/", "INFLUX_TOKEN": "tok", "INFLUX_ORG": "casa",
                        "INFLUX_BUCKET": "energia"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(**DEV)
    assert settings.store_kind == "influx"
    assert settings.influx_url == "http://influx:8086"
    assert settings.influx_token is not None and settings.influx_token.get_secret_value() == "tok"
    assert (settings.influx_org, settings.influx_bucket) == ("casa", "energia")


@pytest.mark.parametrize(("value", "checks"), [(None, True), ("false", False), ("true", True)])
def test_influx_duplicate_check_is_on_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, checks: bool
) -> None:
    from enertrack.store.factory import open_store

    for name, setting in {"INFLUX_URL": "http://127.0.0.1:9", "INFLUX_TOKEN": "tok", "INFLUX_ORG": "casa",
                          "INFLUX_BUCKET": "energia", "INFLUX_CHECK_EXISTING": value}.items():
        if setting is not None:
            monkeypatch.setenv(name, setting)
    store = open_store(load_settings(**DEV))
    try:
        assert store.check_existing is checks  # type: ignore[attr-defined]
    finally:
        store.close()


def test_influx_needs_all_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_URL", "http://influx:8086")
    with pytest.raises(ConfigError) as info:
        load_settings(**DEV)
    assert "INFLUX_TOKEN is required when the InfluxDB store is used" in info.value.problems


def test_mqtt_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"DOMINIO": "mqtt.example.org", "PUERTO_MQTTS": "8884", "MQTT_USR": "ingest",
                        "MQTT_PASS": "secreto"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(**DEV)
    assert (settings.mqtt_host, settings.mqtt_port, settings.mqtt_user) == ("mqtt.example.org", 8884, "ingest")
    assert settings.mqtt_password is not None and settings.mqtt_password.get_secret_value() == "secreto"
    assert settings.mqtt_tls is True


def test_flask_secret_key_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "s3cret-value")
    assert load_settings(_env_file=None).secret_key_value() == "s3cret-value"


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert any(p.startswith("FLASK_SECRET_KEY is required in production") for p in info.value.problems)


def test_development_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    first = load_settings(ENERTRACK_DATA_DIR=str(tmp_path), **DEV).secret_key_value()
    second = load_settings(ENERTRACK_DATA_DIR=str(tmp_path), **DEV).secret_key_value()
    assert first == second and len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PUERTO_MQTTS", "abc", "PUERTO_MQTTS must be a port number, got 'abc'"),
        ("PUERTO_MQTTS", "70000", "PUERTO_MQTTS must be a port number, got '70000'"),
        ("MYSQL_PORT", "-1", "MYSQL_PORT must be a port number, got '-1'"),
        ("ENERTRACK_PORT", "http", "ENERTRACK_PORT must be a port number, got 'http'"),
        ("MQTT_TLS", "maybe", "MQTT_TLS must be true or false (1/0, yes/no), got 'maybe'"),
        ("INFLUX_URL", "influx:8086", "INFLUX_URL must start with http:// or https://, got 'influx:8086'"),
        ("ENERTRACK_DEFAULT_TIMEZONE", "Mars/Olympus",
         "ENERTRACK_DEFAULT_TIMEZONE must be an IANA timezone such as Europe/Madrid, got 'Mars/Olympus'"),
        ("INGEST_BATCH_SIZE", "0", "INGEST_BATCH_SIZE must be a whole number of at least 1, got '0'"),
        ("ENERTRACK_ENV", "prod", "ENERTRACK_ENV must be one of 'production' or 'development', got 'prod'"),
        ("MQTT_CA_FILE", "/nonexistent/ca.pem", "MQTT_CA_FILE must name an existing file, got '/nonexistent/ca.pem'"),
        ("DATABASE_URL", "not a url",
         "DATABASE_URL must be a SQLAlchemy URL such as sqlite:///data/enertrack.sqlite3, got 'not a url'"),
        ("ENERTRACK_TRUSTED_PROXIES", "-1", "ENERTRACK_TRUSTED_PROXIES must be a whole number of 0 or more, got '-1'"),
        ("ENERTRACK_TRUSTED_PROXIES", "one", "ENERTRACK_TRUSTED_PROXIES must be a whole number of 0 or more, got 'one'"),
        # Flask-Limiter drops a limit it cannot parse (and an empty one is no limit): refuse to start.
        ("ENERTRACK_LOGIN_LIMIT_IP", "abc", "ENERTRACK_LOGIN_LIMIT_IP must be a rate limit like '20 per 15 minutes', got 'abc'"),
        ("ENERTRACK_LOGIN_LIMIT_IP", "", "ENERTRACK_LOGIN_LIMIT_IP must be a rate limit like '20 per 15 minutes', got ''"),
        ("ENERTRACK_LOGIN_LIMIT_USER", "5 per fortnight",
         "ENERTRACK_LOGIN_LIMIT_USER must be a rate limit like '20 per 15 minutes', got '5 per fortnight'"),
        ("ENERTRACK_LOGIN_LIMIT_USER_TOTAL", " ",
         "ENERTRACK_LOGIN_LIMIT_USER_TOTAL must be a rate limit like '20 per 15 minutes', got ' '"),
        ("ENERTRACK_REGISTER_LIMIT_IP", "0 per hour",
         "ENERTRACK_REGISTER_LIMIT_IP must be a rate limit like '20 per 15 minutes', got '0 per hour'"),
        ("ENERTRACK_REGISTER_LIMIT_IP", "10 per hour; lots",
         "ENERTRACK_REGISTER_LIMIT_IP must be a rate limit like '20 per 15 minutes', got '10 per hour; lots'"),
        ("RATELIMIT_STORAGE_URI", "redsi://localhost:6379",
         "RATELIMIT_STORAGE_URI must be memory:// or a shared store such as redis://localhost:6379, "
         "got 'redsi://localhost:6379'"),
        ("RATELIMIT_STORAGE_URI", "localhost:6379",
         "RATELIMIT_STORAGE_URI must be memory:// or a shared store such as redis://localhost:6379, "
         "got 'localhost:6379'"),
        ("RATELIMIT_STORAGE_URI", "async+memory://",
         "RATELIMIT_STORAGE_URI must be memory:// or a shared store such as redis://localhost:6379, "
         "got 'async+memory://'"),
    ],
)
def test_bad_values_give_one_clear_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(**({"_env_file": None} if name == "ENERTRACK_ENV" else DEV))
    assert message in info.value.problems


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("ENERTRACK_TRUSTED_PROXIES", "0", "trusted_proxies", 0),
        ("ENERTRACK_TRUSTED_PROXIES", "", "trusted_proxies", 0),
        ("ENERTRACK_TRUSTED_PROXIES", "2", "trusted_proxies", 2),
        ("ENERTRACK_LOGIN_LIMIT_IP", " 30 per 10 minutes ", "login_limit_ip", "30 per 10 minutes"),
        ("ENERTRACK_REGISTER_LIMIT_IP", "5/minute;100/day", "register_limit_ip", "5/minute;100/day"),
        ("RATELIMIT_STORAGE_URI", "", "ratelimit_storage_uri", "memory://"),
    ],
)
def test_good_values_are_accepted(monkeypatch: pytest.MonkeyPatch, name: str, value: str, attribute: str,
                                  expected: object) -> None:
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(**DEV), attribute) == expected


def test_a_shared_rate_limit_store_needs_its_client_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("redis", "valkey") else real(name, *a))
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://localhost:6379")
    with pytest.raises(ConfigError) as info:
        load_settings(**DEV)
    assert info.value.problems == [
        "RATELIMIT_STORAGE_URI needs the Python package redis (pip install redis), got 'redis://localhost:6379'"]


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUERTO_MQTTS", "abc")
    monkeypatch.setenv("MQTT_TLS", "maybe")
    with pytest.raises(ConfigError) as info:
        load_settings(**DEV)
    assert len(info.value.problems) == 2


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DOMINIO=broker.local\nPUERTO_MQTTS=9999\nENERTRACK_ENV=development\n")
    settings = load_settings(_env_file=str(env))
    assert (settings.mqtt_host, settings.mqtt_port) == ("broker.local", 9999)


def test_env_example_is_a_valid_starting_point() -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    settings = load_settings(_env_file=str(example), ENERTRACK_ENV="development")
    assert settings.store_kind == "sqlite" and settings.tsdb_path is None
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    with pytest.raises(ConfigError) as info:  # as shipped it is production: the key must be set
        load_settings(_env_file=str(example))
    assert any("FLASK_SECRET_KEY" in problem for problem in info.value.problems)


def test_every_setting_is_documented_in_env_example() -> None:
    from enertrack.config import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for field in Settings.model_fields.values():
        # A commented-out "# NAME=value" documents a setting left at its default on purpose.
        assert re.search(rf"^(# )?{field.alias}=", example, re.MULTILINE), field.alias


def test_every_setting_is_in_the_readme_table() -> None:
    from enertrack.config import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for field in Settings.model_fields.values():
        assert f"`{field.alias}`" in readme, field.alias


def test_readme_quick_start_is_exactly_two_commands() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert quick.split() == ["make", "run", "make", "test"]


def test_dynsec_provisioning_needs_the_admin_account() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**DEV, ENERTRACK_BROKER_PROVISIONING="dynsec")
    assert any(p.startswith("ENERTRACK_BROKER_ADMIN_USER is required") for p in caught.value.problems)
    assert any(p.startswith("ENERTRACK_BROKER_ADMIN_PASSWORD is required") for p in caught.value.problems)
    with pytest.raises(ConfigError, match="ENERTRACK_BROKER_PROVISIONING must be one of"):
        load_settings(**DEV, ENERTRACK_BROKER_PROVISIONING="files")


def test_devices_use_the_broker_settings_unless_told_otherwise(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    plain = load_settings(**DEV, DOMINIO="mosquitto", PUERTO_MQTTS="8883", MQTT_CA_FILE=str(ca))
    assert (plain.device_mqtt_host, plain.device_mqtt_port, plain.device_ca_file) == ("mosquitto", 8883, ca)
    public = load_settings(**DEV, DOMINIO="mosquitto", ENERTRACK_DEVICE_MQTT_HOST="mqtt.example.org",
                           ENERTRACK_DEVICE_MQTT_PORT="18883")
    assert (public.device_mqtt_host, public.device_mqtt_port) == ("mqtt.example.org", 18883)
    with pytest.raises(ConfigError, match="ENERTRACK_DEVICE_MQTT_PORT must be a port number"):
        load_settings(**DEV, ENERTRACK_DEVICE_MQTT_PORT="0")
