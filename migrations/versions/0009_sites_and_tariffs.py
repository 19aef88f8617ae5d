"""sites, tariffs over time and nominal supply

Revision ID: 0009
Revises: 0008 (written against 0004; main's head was 0008 when this branch was last rebased)
Create Date: 2026-12-02

Every existing user gets one site holding all their nodes ("Principal", or "Main" for users who
chose English), so nothing changes for them until they add a second one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
DEFAULT_SITE_NAMES = {"en": "Main"}  # any other language: "Principal"


def upgrade() -> None:
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('contracted_kw', sa.Float(), nullable=True),
    sa.Column('contracted_valle_kw', sa.Float(), nullable=True),
    sa.Column('nominal_voltage', sa.Float(), nullable=True),
    sa.Column('nominal_frequency', sa.Float(), nullable=True),
    sa.Column('billing_day', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_sites_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('owner_id', 'name', name='uq_sites_owner_name'),
    **MYSQL,
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_owner_id'), ['owner_id'], unique=False)
    op.create_table('tariffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('price_punta', sa.Numeric(precision=10, scale=5), nullable=True),
    sa.Column('price_llano', sa.Numeric(precision=10, scale=5), nullable=False),
    sa.Column('price_valle', sa.Numeric(precision=10, scale=5), nullable=True),
    sa.Column('power_price_kw_day', sa.Numeric(precision=10, scale=6), nullable=True),
    sa.Column('power_price_valle_kw_day', sa.Numeric(precision=10, scale=6), nullable=True),
    sa.Column('fixed_per_day', sa.Numeric(precision=10, scale=5), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_tariffs_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs')),
    sa.UniqueConstraint('site_id', 'valid_from', name='uq_tariffs_site_from'),
    **MYSQL,
    )
    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tariffs_site_id'), ['site_id'], unique=False)
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('nominal_voltage', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('nominal_frequency', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_nodes_site_id'), ['site_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_nodes_site_id_sites'), 'sites', ['site_id'], ['id'],
                                    ondelete='SET NULL')
    _one_site_per_user()


def _one_site_per_user() -> None:
    """Each user's first site, holding every node they have."""
    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('language', sa.String))
    sites = sa.table('sites', sa.column('id', sa.Integer), sa.column('owner_id', sa.Integer),
                     sa.column('name', sa.String))
    nodes = sa.table('nodes', sa.column('owner_id', sa.Integer), sa.column('site_id', sa.Integer))
    for user_id, language in conn.execute(sa.select(users.c.id, users.c.language)).all():
        conn.execute(sa.insert(sites).values(owner_id=user_id,
                                             name=DEFAULT_SITE_NAMES.get(language, "Principal")))
        site_id = conn.execute(sa.select(sites.c.id).where(sites.c.owner_id == user_id)).scalar_one()
        conn.execute(sa.update(nodes).where(nodes.c.owner_id == user_id).values(site_id=site_id))


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_nodes_site_id_sites'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_nodes_site_id'))
        batch_op.drop_column('nominal_frequency')
        batch_op.drop_column('nominal_voltage')
        batch_op.drop_column('site_id')
    with op.batch_alter_table('tariffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tariffs_site_id'))
    op.drop_table('tariffs')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_owner_id'))
    op.drop_table('sites')
