"""broker credentials: each node's broker password, kept only as a hash

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0009'  # merged after 0009 (sites); decisions.md's number kept as its id
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broker_password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('broker_credentials_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('broker_credentials_at')
        batch_op.drop_column('broker_password_hash')
