"""tariff and glitch bound

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_power_w', sa.Float(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_per_kwh', sa.Numeric(precision=10, scale=5), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('currency')
        batch_op.drop_column('price_per_kwh')

    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('max_power_w')

