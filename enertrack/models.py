"""Users and nodes: SQLAlchemy 2 typed models on a plain DeclarativeBase (no Flask needed)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NODE_ID_MAX = 64  # characters of a node id: the column, the form and the MQTT topic agree
NODE_ID_RE = re.compile(rf"^[A-Za-z0-9_-]{{1,{NODE_ID_MAX}}}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
DESCRIPTION_MAX = 200
LOCATION_MAX = 120
EMAIL_MAX = 254
LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
DEFAULT_INTERVAL_S = 10
DEFAULT_CURRENCY = "EUR"
MAX_POWER_MIN_W = 100.0
MAX_POWER_MAX_W = 10_000_000.0
PRICE_MAX = 100
INTERVAL_MIN_S = 1
INTERVAL_MAX_S = 86_400
NODE_STATUSES = ("online", "offline")
# The dead-letter list keeps the newest this many per registered node, so one node's flood cannot
# erase another user's history; messages from unregistered ids (strangers) share one pool.
REJECTED_KEEP_PER_NODE = 200
REJECTED_KEEP_STRANGERS = 1000
SITE_NAME_MAX = 60
NOMINAL_VOLTAGES = (100.0, 500.0)  # accepted range of a nominal voltage, V
NOMINAL_FREQUENCIES = (50.0, 60.0)
TARIFF_KINDS = ("flat", "es-2.0td")
REJECTED_TEXT_MAX = 200
FW_MAX = 32  # characters of a firmware version in a node's device-health report

# Stable constraint names so Alembic migrations are identical on SQLite and MariaDB.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Every table in utf8mb4 on MariaDB/MySQL (migration 0004), whatever the database's default:
# text from the network (dead letters' excerpts) and from users may hold any character.
MYSQL_TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

# MQTT topics are case-sensitive, so node ids are too (binary collation on MariaDB).
NodeIdType = String(NODE_ID_MAX).with_variant(mysql.VARCHAR(NODE_ID_MAX, collation="utf8mb4_bin"), "mysql", "mariadb")


# Column.info key of a reference the database does not enforce ("nodes.node_id"): what a user's
# account deletion must remove although no foreign key says so (tests/integration/test_account_deletion.py).
REFERS_TO = "refers_to"
NODE_REFERENCE = {REFERS_TO: "nodes.node_id"}


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored naive-UTC by both backends)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person with an account; owns nodes."""

    __tablename__ = "users"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    language: Mapped[str] = mapped_column(String(5), default=DEFAULT_LANGUAGE)
    # Tariff: the price of one kWh in the user's currency (None: no costs shown).
    price_per_kwh: Mapped[Decimal | None] = mapped_column(Numeric(10, 5), default=None)
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY, server_default=DEFAULT_CURRENCY)

    nodes: Mapped[list[Node]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    sessions: Mapped[list[UserSession]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    resets: Mapped[list[PasswordReset]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    sites: Mapped[list[Site]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True, order_by="Site.id"
    )


TOKEN_HASH_LEN = 64  # hex SHA-256 of a random token: what the database keeps instead of the token


class UserSession(Base):
    """One login on one browser: its session cookie and remember cookie hold the token, we keep its hash.

    Deleting the row ends that login at once (logout); deleting a user's rows ends all of them.
    """

    __tablename__ = "user_sessions"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PasswordReset(Base):
    """A password-reset link sent by e-mail: single use, short-lived, only its token's hash kept."""

    __tablename__ = "password_resets"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Invite(Base):
    """A single-use sign-up link made by `enertrack user invite` (ENERTRACK_REGISTRATION=invite)."""

    __tablename__ = "invites"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class PendingSignup(Base):
    """A sign-up waiting for its e-mail address to be confirmed (when SMTP is configured)."""

    __tablename__ = "pending_signups"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LEN), unique=True)
    username: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Site(Base):
    """A supply point ("home", "bakery"): its nodes share a tariff, a contracted power and a nominal supply."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_sites_owner_name"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(SITE_NAME_MAX))
    # Contracted power, kW: Spain's 2.0TD contracts two (P1 punta+llano, P2 valle); one otherwise.
    contracted_kw: Mapped[float | None] = mapped_column(Float, default=None)
    contracted_valle_kw: Mapped[float | None] = mapped_column(Float, default=None)
    # Nominal supply (None: the installation's ENERTRACK_GRID); nodes may override it.
    nominal_voltage: Mapped[float | None] = mapped_column(Float, default=None)
    nominal_frequency: Mapped[float | None] = mapped_column(Float, default=None)
    billing_day: Mapped[int | None] = mapped_column(Integer, default=None)  # 1-28; None: calendar months
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())

    owner: Mapped[User] = relationship(back_populates="sites")
    nodes: Mapped[list[Node]] = relationship(back_populates="site")
    tariffs: Mapped[list[SiteTariff]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True, order_by="SiteTariff.valid_from"
    )


class SiteTariff(Base):
    """A site's prices from valid_from on, until its next tariff; prices in the owner's currency."""

    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("site_id", "valid_from", name="uq_tariffs_site_from"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16), default="flat")  # one of TARIFF_KINDS
    # Energy price per kWh: flat uses price_llano for every hour; 2.0TD one per band.
    price_punta: Mapped[Decimal | None] = mapped_column(Numeric(10, 5), default=None)
    price_llano: Mapped[Decimal] = mapped_column(Numeric(10, 5))
    price_valle: Mapped[Decimal | None] = mapped_column(Numeric(10, 5), default=None)
    # Power term per kW contracted and day (P1 and, for 2.0TD, P2 valle) and a fixed charge per day.
    power_price_kw_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 6), default=None)
    power_price_valle_kw_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 6), default=None)
    fixed_per_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 5), default=None)

    site: Mapped[Site] = relationship(back_populates="tariffs")


class Node(Base):
    """A measurement device; node_id is its MQTT identity, unique in the installation."""

    __tablename__ = "nodes"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(NodeIdType, unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    interval_s: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_S)
    # Glitch bound of the energy rules for this meter (None: the default, docs/energy.md).
    max_power_w: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    # The node's own announcement on <prefix>/<node_id>/status (its MQTT Last Will says offline).
    last_status: Mapped[str | None] = mapped_column(String(7), default=None)
    last_status_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # Its supply point, and a nominal supply of its own (None: the site's, then the installation's).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"), index=True,
                                                default=None)
    nominal_voltage: Mapped[float | None] = mapped_column(Float, default=None)
    nominal_frequency: Mapped[float | None] = mapped_column(Float, default=None)
    # The node's broker password as a werkzeug hash (the password itself is shown once and never
    # stored) and when it was issued; None: EnerTrack never issued credentials for this node.
    broker_password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    broker_credentials_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    owner: Mapped[User] = relationship(back_populates="nodes")
    site: Mapped[Site | None] = relationship(back_populates="nodes")


class RejectedMessage(Base):
    """A dead letter: a message the ingest daemon refused, why, and what it said (newest kept)."""

    __tablename__ = "rejected_messages"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    # Not a foreign key: unknown and deleted nodes are exactly what gets rejected.
    node_id: Mapped[str | None] = mapped_column(NodeIdType, index=True, info=NODE_REFERENCE)
    topic: Mapped[str] = mapped_column(String(REJECTED_TEXT_MAX))
    reason: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(400))
    excerpt: Mapped[str] = mapped_column(String(REJECTED_TEXT_MAX))


class NodeHealth(Base):
    """A node's latest device-health report (docs/payload.md#device-health); gone with the node."""

    __tablename__ = "node_health"
    __table_args__ = MYSQL_TABLE_ARGS

    # One row per node, keyed by the node's row (not its id text): a node deleted and created
    # again under the same id starts without the old device's health.
    node_pk: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime)  # when the last message carrying any arrived
    fw: Mapped[str | None] = mapped_column(String(FW_MAX), default=None)
    rssi: Mapped[int | None] = mapped_column(Integer, default=None)
    uptime_s: Mapped[int | None] = mapped_column(Integer, default=None)
    dropped: Mapped[int | None] = mapped_column(Integer, default=None)
    buffered: Mapped[int | None] = mapped_column(Integer, default=None)


# --- Alerts (migration 0008, docs/alerts.md) ----------------------------------------------------

RULE_KIND_MAX = 24
WEBHOOK_URL_MAX = 500


class AlertRule(Base):
    """A user's rule on one node (node_id) or on every node they own (node_id None)."""

    __tablename__ = "alert_rules"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str | None] = mapped_column(
        NodeIdType, ForeignKey("nodes.node_id", ondelete="CASCADE"), default=None, index=True)
    kind: Mapped[str] = mapped_column(String(RULE_KIND_MAX))
    threshold: Mapped[float | None] = mapped_column(Float, default=None)
    minimum: Mapped[float | None] = mapped_column(Float, default=None)
    maximum: Mapped[float | None] = mapped_column(Float, default=None)
    for_s: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    # Readings from this instant on are judged (reset when the rule is edited or resumed).
    active_since: Mapped[int] = mapped_column(BigInteger)


class AlertTrack(Base):
    """A rule's state on one node between evaluations: what makes a restart resume, not repeat."""

    __tablename__ = "alert_tracks"
    __table_args__ = (UniqueConstraint("rule_id", "node_id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(NodeIdType, info=NODE_REFERENCE)
    state: Mapped[str] = mapped_column(String(12), default="ok")
    since: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_ts: Mapped[int | None] = mapped_column(BigInteger, default=None)
    day: Mapped[int | None] = mapped_column(BigInteger, default=None)


class AlertEvent(Base):
    """One edge of an episode (firing or resolved): the history and the in-app notification."""

    __tablename__ = "alert_events"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True)
    node_id: Mapped[str] = mapped_column(NodeIdType, info=NODE_REFERENCE)  # history outlives the node
    kind: Mapped[str] = mapped_column(String(RULE_KIND_MAX))
    state: Mapped[str] = mapped_column(String(8))
    ts: Mapped[int] = mapped_column(BigInteger)  # when it happened: a reading's own timestamp
    value: Mapped[float | None] = mapped_column(Float, default=None)
    # The rule's limit at the time, as text ("< 207 V"), so history survives edits and deletion.
    limit_text: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class NotifySettings(Base):
    """Where a user's alerts go besides the app: e-mail, webhook, and quiet hours for both."""

    __tablename__ = "notify_settings"
    __table_args__ = MYSQL_TABLE_ARGS

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), default=None)
    webhook_url: Mapped[str | None] = mapped_column(String(WEBHOOK_URL_MAX), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    quiet_start: Mapped[str | None] = mapped_column(String(5), default=None)  # "22:00", user's timezone
    quiet_end: Mapped[str | None] = mapped_column(String(5), default=None)


class Delivery(Base):
    """One message to send on one channel (the outbox) and what came of it (the delivery log)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | webhook
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    summary_of: Mapped[int] = mapped_column(Integer, default=1)  # events in the message (quiet hours: >1)
    detail: Mapped[str] = mapped_column(String(400), default="")  # the last answer or error
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
