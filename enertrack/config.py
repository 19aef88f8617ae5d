"""Typed settings from the environment and a .env file, validated once at start.

The original EnerTrack names (MYSQL_*, INFLUX_*, DOMINIO, PUERTO_MQTTS, MQTT_USR,
MQTT_PASS, FLASK_SECRET_KEY) keep working; every other knob is ENERTRACK_* or MQTT_*.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from limits.storage import SCHEMES as STORAGE_SCHEMES
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

URL_PREFIX = "/enertrack/"
SECRET_KEY_FILE = "secret_key"


class ConfigError(ValueError):
    """Invalid configuration: one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _invalid(kind: str, rule: str, got: object) -> PydanticCustomError:
    """An error read as "<VARIABLE> <rule>, got '<value>'" by load_settings."""
    return PydanticCustomError(kind, rule + ", got '{got}'", {"got": str(got)})


def _port(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise _invalid("port", "must be a port number", str(value))
    return int(text)


def _optional_port(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    return _port(value)


def _positive_int(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise _invalid("positive", "must be a whole number of at least 1", str(value))
    return int(text)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _invalid("flag", "must be true or false (1/0, yes/no)", str(value))


def _http_url(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.startswith(("http://", "https://")):
        raise _invalid("url", "must start with http:// or https://", text)
    return text.rstrip("/")


def _timezone(value: Any) -> str:
    text = str(value).strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid("tz", "must be an IANA timezone such as Europe/Madrid", text) from None
    return text


def _database_url(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        make_url(str(value).strip())
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        rule = "must be a SQLAlchemy URL such as sqlite:///data/enertrack.sqlite3"
        raise _invalid("dburl", rule, str(value)) from None
    return str(value).strip()


def _smtp_url(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise _invalid("smtp", "must look like smtp://user:password@host:587?starttls=true or smtps://host:465",
                       text.split("@")[-1])  # never echo a password
    return text


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _count(value: Any) -> int:
    text = str(value).strip()
    if text == "":
        return 0
    if not text.isdigit():
        raise _invalid("count", "must be a whole number of 0 or more", str(value))
    return int(text)


RATE_LIMIT_EXAMPLE = "20 per 15 minutes"
TOPIC_PREFIX_MAX = 64  # characters of MQTT_TOPIC_PREFIX


def _rate_limit(value: Any) -> str:
    # Flask-Limiter parses its limit strings per request and silently drops one it cannot
    # parse (no limit at all), so a typo must stop the start instead.
    text = str(value).strip()
    try:
        parsed = parse_many(text)
    except ValueError:
        parsed = []
    if not parsed or any(limit.amount < 1 for limit in parsed):
        raise _invalid("ratelimit", f"must be a rate limit like '{RATE_LIMIT_EXAMPLE}'", str(value))
    return text


def _storage_uri(value: Any) -> str:
    text = str(value).strip() or "memory://"  # empty means Flask-Limiter's default
    scheme = urlsplit(text).scheme
    # async+ storages are for asyncio apps; Flask-Limiter here is synchronous.
    if "://" not in text or scheme not in STORAGE_SCHEMES or scheme.startswith("async+"):
        rule = "must be memory:// or a shared store such as redis://localhost:6379"
        raise _invalid("storage", rule, text)
    needs = STORAGE_SCHEMES[scheme].DEPENDENCIES
    if needs and not any(importlib.util.find_spec(name.split(".")[0]) for name in needs):
        package = next(iter(needs)).split(".")[0]
        raise _invalid("storage", f"needs the Python package {package} (pip install {package})", text)
    return text


def _existing_file(value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise _invalid("file", "must name an existing file", str(value))
    return value


Port = Annotated[int, BeforeValidator(_port)]
Timezone = Annotated[str, BeforeValidator(_timezone)]
Count = Annotated[int, BeforeValidator(_count)]
RateLimit = Annotated[str, BeforeValidator(_rate_limit)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]
OptText = Annotated[str | None, BeforeValidator(_optional_text)]
OptSecret = Annotated[SecretStr | None, BeforeValidator(_optional_text)]
OptFile = Annotated[Path | None, BeforeValidator(_optional_text), AfterValidator(_existing_file)]


class Settings(BaseSettings):
    """Every setting, by the environment variable that sets it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["production", "development"] = Field("production", alias="ENERTRACK_ENV")
    data_dir: Path = Field(Path("data"), alias="ENERTRACK_DATA_DIR")
    host: str = Field("0.0.0.0", alias="ENERTRACK_HOST")
    port: Port = Field(8006, alias="ENERTRACK_PORT")
    https: Flag = Field(False, alias="ENERTRACK_HTTPS")
    secret_key: OptSecret = Field(None, alias="FLASK_SECRET_KEY")
    default_timezone: Timezone = Field("Europe/Madrid", alias="ENERTRACK_DEFAULT_TIMEZONE")
    ratelimit_storage_uri: Annotated[str, BeforeValidator(_storage_uri)] = Field(
        "memory://", alias="RATELIMIT_STORAGE_URI")
    login_limit_ip: RateLimit = Field("20 per 15 minutes", alias="ENERTRACK_LOGIN_LIMIT_IP")
    login_limit_user: RateLimit = Field("5 per 15 minutes", alias="ENERTRACK_LOGIN_LIMIT_USER")
    login_limit_user_total: RateLimit = Field("50 per hour", alias="ENERTRACK_LOGIN_LIMIT_USER_TOTAL")
    register_limit_ip: RateLimit = Field("10 per hour", alias="ENERTRACK_REGISTER_LIMIT_IP")
    trusted_proxies: Count = Field(0, alias="ENERTRACK_TRUSTED_PROXIES")
    # One worker with threads by default: login limits are counted in the worker's memory unless
    # RATELIMIT_STORAGE_URI names a shared store (web_problems refuses more workers without one).
    web_workers: PositiveInt = Field(1, alias="ENERTRACK_WEB_WORKERS")
    web_threads: PositiveInt = Field(8, alias="ENERTRACK_WEB_THREADS")
    # The installation's supply (nominal voltage and frequency) unless a site or node says otherwise.
    grid: Literal["230v50", "120v60"] = Field("230v50", alias="ENERTRACK_GRID")

    # Users and nodes: DATABASE_URL, else the original MYSQL_* names, else SQLite in data_dir.
    database_url: Annotated[str | None, BeforeValidator(_database_url)] = Field(None, alias="DATABASE_URL")
    mysql_user: OptText = Field(None, alias="MYSQL_USER")
    mysql_password: OptSecret = Field(None, alias="MYSQL_PASSWORD")
    mysql_db: OptText = Field(None, alias="MYSQL_DB")
    mysql_host: OptText = Field(None, alias="MYSQL_HOST")
    mysql_port: Port = Field(3306, alias="MYSQL_PORT")

    # Time-series store: InfluxDB when INFLUX_URL is set (or ENERTRACK_STORE=influx), else SQLite.
    store: Literal["auto", "sqlite", "influx"] = Field("auto", alias="ENERTRACK_STORE")
    tsdb_path: Annotated[Path | None, BeforeValidator(_optional_text)] = Field(None, alias="ENERTRACK_TSDB_PATH")
    influx_url: Annotated[str | None, BeforeValidator(_http_url)] = Field(None, alias="INFLUX_URL")
    influx_token: OptSecret = Field(None, alias="INFLUX_TOKEN")
    influx_org: OptText = Field(None, alias="INFLUX_ORG")
    influx_bucket: OptText = Field(None, alias="INFLUX_BUCKET")
    # The pre-write Flux query that keeps the first reading of a (node, ts), as SQLite does.
    # Only for servers without Flux (victoria-metrics) is it turned off: see docs/influxdb.md.
    influx_check_existing: Flag = Field(True, alias="INFLUX_CHECK_EXISTING")

    # MQTT broker the ingest daemon subscribes to (and the simulator publishes to).
    mqtt_host: str = Field("localhost", alias="DOMINIO")
    mqtt_port: Port = Field(8883, alias="PUERTO_MQTTS")
    mqtt_user: OptText = Field(None, alias="MQTT_USR")
    mqtt_password: OptSecret = Field(None, alias="MQTT_PASS")
    mqtt_tls: Flag = Field(True, alias="MQTT_TLS")
    mqtt_ca_file: OptFile = Field(None, alias="MQTT_CA_FILE")
    mqtt_cert_file: OptFile = Field(None, alias="MQTT_CERT_FILE")
    mqtt_key_file: OptFile = Field(None, alias="MQTT_KEY_FILE")
    mqtt_tls_insecure: Flag = Field(False, alias="MQTT_TLS_INSECURE")
    mqtt_topic_prefix: str = Field("enertrack", alias="MQTT_TOPIC_PREFIX",
                                   pattern=rf"^[A-Za-z0-9_\-/]{{1,{TOPIC_PREFIX_MAX}}}$")
    mqtt_client_id: str = Field("enertrack-ingest", alias="MQTT_CLIENT_ID", min_length=1, max_length=64)

    # Outgoing e-mail (password reset; alerts later): enertrack/mail.py, docs/security.md.
    # ENERTRACK_SMTP_URL and ENERTRACK_SMTP_FROM are defined with the alerts' settings below.
    smtp_host: OptText = Field(None, alias="ENERTRACK_SMTP_HOST")
    smtp_port: Port = Field(587, alias="ENERTRACK_SMTP_PORT")
    smtp_user: OptText = Field(None, alias="ENERTRACK_SMTP_USER")
    smtp_password: OptSecret = Field(None, alias="ENERTRACK_SMTP_PASSWORD")
    smtp_starttls: Flag = Field(True, alias="ENERTRACK_SMTP_STARTTLS")
    # Links in e-mail use this, never the request's Host header (which a client chooses).
    public_url: Annotated[str | None, BeforeValidator(_http_url)] = Field(None, alias="ENERTRACK_PUBLIC_URL")

    # Who may sign up: anyone (open), nobody (closed: `enertrack user create`), or whoever holds
    # a single-use link from `enertrack user invite` (invite).
    registration: Literal["open", "closed", "invite"] = Field("open", alias="ENERTRACK_REGISTRATION")
    # Per-user quotas: what one account may own. A user has at most one webhook URL (notify
    # settings), so the webhook quota is a switch: 0 refuses new webhook URLs, 1 or more allows one.
    quota_nodes: PositiveInt = Field(100, alias="ENERTRACK_QUOTA_NODES")
    quota_alert_rules: PositiveInt = Field(50, alias="ENERTRACK_QUOTA_ALERT_RULES")
    quota_webhooks: Count = Field(1, alias="ENERTRACK_QUOTA_WEBHOOKS")
    # Per-node broker credentials (docs/operations.md, "Broker accounts"): off leaves the broker's
    # accounts to its operator; dynsec has EnerTrack create them over Mosquitto's dynamic security.
    broker_provisioning: Literal["off", "dynsec"] = Field("off", alias="ENERTRACK_BROKER_PROVISIONING")
    broker_admin_user: OptText = Field(None, alias="ENERTRACK_BROKER_ADMIN_USER")
    broker_admin_password: OptSecret = Field(None, alias="ENERTRACK_BROKER_ADMIN_PASSWORD")
    # What devices use, shown on the node page: the public name, where DOMINIO may be a service name.
    device_mqtt_host_setting: OptText = Field(None, alias="ENERTRACK_DEVICE_MQTT_HOST")
    device_mqtt_port_setting: Annotated[int | None, BeforeValidator(_optional_port)] = Field(
        None, alias="ENERTRACK_DEVICE_MQTT_PORT")
    device_ca_file_setting: OptFile = Field(None, alias="ENERTRACK_DEVICE_CA_FILE")

    # Ingest daemon knobs (Telegraf's, see docs/operations.md).
    ingest_batch_size: PositiveInt = Field(500, alias="INGEST_BATCH_SIZE")
    ingest_batch_ms: PositiveInt = Field(200, alias="INGEST_BATCH_MS")
    ingest_queue_max: PositiveInt = Field(10_000, alias="INGEST_QUEUE_MAX")
    # The broker's max_inflight_messages (deploy/mosquitto.conf ships 1000; Mosquitto's default is 20):
    # the broker is meant to lend a manual-ack subscriber no more unacknowledged messages, so no
    # batch is made larger (Mosquitto 2.0 overshoots once acks flow: docs/operations.md section 4).
    mqtt_max_inflight: PositiveInt = Field(1000, alias="MQTT_MAX_INFLIGHT")

    # Alerts (docs/alerts.md): the evaluation service's poll interval, e-mail and webhooks.
    alerts_poll_s: PositiveInt = Field(15, alias="ENERTRACK_ALERTS_POLL_S")
    # Outgoing mail: smtp://[user:password@]host[:port] (add ?starttls=true) or smtps://... for TLS
    # from the first byte. Empty: no alert e-mail (the app and webhooks still work).
    smtp_url: Annotated[str | None, BeforeValidator(_smtp_url)] = Field(None, alias="ENERTRACK_SMTP_URL")
    smtp_from: str = Field("EnerTrack <enertrack@localhost>", alias="ENERTRACK_SMTP_FROM", min_length=3)
    webhook_allow_private: Flag = Field(False, alias="ENERTRACK_WEBHOOK_ALLOW_PRIVATE")
    webhook_attempts: PositiveInt = Field(4, alias="ENERTRACK_WEBHOOK_ATTEMPTS")
    webhook_backoff_s: float = Field(2.0, alias="ENERTRACK_WEBHOOK_BACKOFF_S", ge=0, le=300)
    webhook_timeout_s: PositiveInt = Field(10, alias="ENERTRACK_WEBHOOK_TIMEOUT_S")

    @property
    def mail_configured(self) -> bool:
        """True when EnerTrack can send e-mail (ENERTRACK_SMTP_URL or ENERTRACK_SMTP_HOST)."""
        return bool(self.smtp_url or self.smtp_host)

    @property
    def is_production(self) -> bool:
        """True unless ENERTRACK_ENV=development (demo and tests)."""
        return self.env == "production"

    @property
    def sqlalchemy_url(self) -> str | URL:
        """DATABASE_URL, else a MariaDB URL from MYSQL_*, else SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        if self.mysql_user or self.mysql_db:
            return URL.create(
                "mysql+mysqldb",
                username=self.mysql_user,
                password=self.mysql_password.get_secret_value() if self.mysql_password else None,
                host=self.mysql_host or "localhost",
                port=self.mysql_port,
                database=self.mysql_db,
                query={"charset": "utf8mb4"},
            )
        return f"sqlite:///{(self.data_dir / 'enertrack.sqlite3').resolve()}"

    @property
    def store_kind(self) -> Literal["sqlite", "influx"]:
        """Which time-series store the settings select."""
        if self.store == "auto":
            return "influx" if self.influx_url else "sqlite"
        return self.store

    @property
    def tsdb_file(self) -> Path:
        """The embedded time-series database file."""
        return (self.tsdb_path or self.data_dir / "timeseries.sqlite3").resolve()

    @property
    def device_mqtt_host(self) -> str:
        """The broker host devices connect to: ENERTRACK_DEVICE_MQTT_HOST, else DOMINIO."""
        return self.device_mqtt_host_setting or self.mqtt_host

    @property
    def device_mqtt_port(self) -> int:
        """The broker port devices connect to: ENERTRACK_DEVICE_MQTT_PORT, else PUERTO_MQTTS."""
        return self.device_mqtt_port_setting or self.mqtt_port

    @property
    def device_ca_file(self) -> Path | None:
        """The CA certificate devices download: ENERTRACK_DEVICE_CA_FILE, else MQTT_CA_FILE."""
        return self.device_ca_file_setting or self.mqtt_ca_file

    def problems(self) -> list[str]:
        """Cross-field problems, one readable line each (single fields are checked on load)."""
        found: list[str] = []
        if bool(self.mysql_user) != bool(self.mysql_db) and not self.database_url:
            found.append("MYSQL_USER and MYSQL_DB must be set together (or set DATABASE_URL instead)")
        if self.is_production and self.secret_key is None:
            found.append(
                "FLASK_SECRET_KEY is required in production: set it to a long random value, e.g. "
                "the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if self.store_kind == "influx":
            for name, value in (("INFLUX_URL", self.influx_url), ("INFLUX_TOKEN", self.influx_token),
                                ("INFLUX_ORG", self.influx_org), ("INFLUX_BUCKET", self.influx_bucket)):
                if not value:
                    found.append(f"{name} is required when the InfluxDB store is used")
        if (self.smtp_url or self.smtp_host) and not (self.smtp_from and self.public_url):
            found.append("ENERTRACK_SMTP_FROM (the sender address) and ENERTRACK_PUBLIC_URL (the address of "
                         "this site, for links in e-mail) are required when SMTP is configured")
        if self.broker_provisioning == "dynsec":
            for name, value in (("ENERTRACK_BROKER_ADMIN_USER", self.broker_admin_user),
                                ("ENERTRACK_BROKER_ADMIN_PASSWORD", self.broker_admin_password)):
                if not value:
                    found.append(f"{name} is required when ENERTRACK_BROKER_PROVISIONING=dynsec "
                                 "(the dynamic-security admin account, docs/operations.md)")
        if bool(self.mqtt_cert_file) != bool(self.mqtt_key_file):
            found.append("MQTT_CERT_FILE and MQTT_KEY_FILE must be set together for a client certificate")
        return found

    def web_problems(self, workers: int | None = None) -> list[str]:
        """Why the web server cannot run with this many gunicorn workers (default ENERTRACK_WEB_WORKERS)."""
        workers = self.web_workers if workers is None else workers
        if workers > 1 and urlsplit(self.ratelimit_storage_uri).scheme == "memory":
            return [f"{workers} web workers need a shared rate-limit store: set RATELIMIT_STORAGE_URI="
                    f"redis://HOST:6379 (with memory:// each worker counts login attempts apart, so every "
                    f"login limit would be multiplied by {workers}), or run 1 worker with more "
                    "ENERTRACK_WEB_THREADS"]
        return []

    def secret_key_value(self) -> str:
        """FLASK_SECRET_KEY, or (development only) one generated once and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.is_production:
            raise ConfigError(self.problems())
        path = self.data_dir / SECRET_KEY_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip()


def _describe(error: Mapping[str, Any]) -> str:
    """One line for one pydantic error, named by the environment variable."""
    name = ".".join(str(part) for part in error.get("loc", ())) or "configuration"
    kind = error.get("type", "")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{name} must be one of {expected}, got {error.get('input')!r}"
    if kind == "string_pattern_mismatch":
        return f"{name} may only contain letters, digits, '_', '-' and '/', got {error.get('input')!r}"
    return f"{name} {error.get('msg', 'is invalid')}"


def load_settings(*, check: bool = True, **overrides: Any) -> Settings:
    """Read and validate the settings; ConfigError lists every problem, one per line."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from None
    if check and (problems := settings.problems()):
        raise ConfigError(problems)
    return settings
