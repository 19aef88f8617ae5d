"""node health: each node's latest device-health report

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02

The diagnostic keys of the telemetry payload (fw, rssi, uptime_s, dropped, buffered; see
docs/payload.md) are kept as one row per node, written by the ingest daemon together with the
node statuses and shown on the node's page. A table of its own rather than columns on nodes:
the web's node form never touches it, and deleting a node deletes it (ON DELETE CASCADE).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'  # after 0005 accounts (decisions.md order; was 0004 before issue 9)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('node_health',
    sa.Column('node_pk', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('fw', sa.String(length=32), nullable=True),
    sa.Column('rssi', sa.Integer(), nullable=True),
    sa.Column('uptime_s', sa.Integer(), nullable=True),
    sa.Column('dropped', sa.Integer(), nullable=True),
    sa.Column('buffered', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['node_pk'], ['nodes.id'], name=op.f('fk_node_health_node_pk_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('node_pk', name=op.f('pk_node_health')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    )


def downgrade() -> None:
    op.drop_table('node_health')
