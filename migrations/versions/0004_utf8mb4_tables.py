"""utf8mb4 tables on MariaDB/MySQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Tables created before this revision took the database's default character set: on a latin1
or utf8 (3-byte) database, an emoji in a dead letter's excerpt, a description or a user name
was refused (MySQL error 1366). CONVERT TO turns every text column into utf8mb4 with the
case-insensitive utf8mb4_unicode_ci collation, so node_id columns are then put back to
utf8mb4_bin (MQTT topics, hence node ids, are case-sensitive). SQLite stores UTF-8 anyway:
a no-op there.
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLES = ("users", "nodes", "rejected_messages")
# (table, the node_id column's definition after the conversion)
NODE_ID_COLUMNS = (
    ("nodes", "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"),
    ("rejected_messages", "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL"),
)


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if not _is_mysql():
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    for table, definition in NODE_ID_COLUMNS:
        op.execute(f"ALTER TABLE {table} MODIFY node_id {definition}")


def downgrade() -> None:
    # The character set the tables had before is not recorded; utf8mb4 holds everything they held.
    pass
