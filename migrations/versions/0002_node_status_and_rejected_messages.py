"""node status and rejected messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rejected_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('node_id', sa.String(length=64).with_variant(mysql.VARCHAR(64, collation='utf8mb4_bin'), 'mysql', 'mariadb'), nullable=True),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('message', sa.String(length=400), nullable=False),
    sa.Column('excerpt', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_messages'))
    )
    with op.batch_alter_table('rejected_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_messages_node_id'), ['node_id'], unique=False)

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_status', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('last_status_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('last_status_at')
        batch_op.drop_column('last_status')

    with op.batch_alter_table('rejected_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_messages_node_id'))

    op.drop_table('rejected_messages')
