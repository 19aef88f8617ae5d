"""Users and nodes: SQLAlchemy 2 typed models on a plain DeclarativeBase (no Flask needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, String, func
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NODE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
DESCRIPTION_MAX = 200
LOCATION_MAX = 120
EMAIL_MAX = 254
LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
DEFAULT_INTERVAL_S = 10
INTERVAL_MIN_S = 1
INTERVAL_MAX_S = 86_400

# Stable constraint names so Alembic migrations are identical on SQLite and MariaDB.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored naive-UTC by both backends)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person with an account; owns nodes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    language: Mapped[str] = mapped_column(String(5), default=DEFAULT_LANGUAGE)

    nodes: Mapped[list[Node]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class Node(Base):
    """A measurement device; node_id is its MQTT identity, unique in the installation."""

    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # MQTT topics are case-sensitive, so node ids are too (binary collation on MariaDB).
    node_id: Mapped[str] = mapped_column(
        String(64).with_variant(mysql.VARCHAR(64, collation="utf8mb4_bin"), "mysql", "mariadb"),
        unique=True,
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    interval_s: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_S)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())

    owner: Mapped[User] = relationship(back_populates="nodes")
