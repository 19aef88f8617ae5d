"""alerts: rules, their per-node state, events, notification settings and deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

The evaluation service keeps its state here (alert_tracks) so a restart neither re-sends nor
misses; alert_events is both the history and the in-app notification list; alert_deliveries
is the e-mail/webhook outbox and delivery log (docs/alerts.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0008'
down_revision = '0007'  # was 0004; 0007 (node health) reached main first
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def _node_id() -> sa.types.TypeEngine:
    return sa.String(length=64).with_variant(mysql.VARCHAR(64, collation='utf8mb4_bin'), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table(
        'alert_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('node_id', _node_id(), nullable=True),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=True),
        sa.Column('minimum', sa.Float(), nullable=True),
        sa.Column('maximum', sa.Float(), nullable=True),
        sa.Column('for_s', sa.Integer(), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column('active_since', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_alert_rules_owner_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['node_id'], ['nodes.node_id'], name=op.f('fk_alert_rules_node_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
        **MYSQL,
    )
    op.create_index(op.f('ix_alert_rules_owner_id'), 'alert_rules', ['owner_id'])
    op.create_index(op.f('ix_alert_rules_node_id'), 'alert_rules', ['node_id'])
    op.create_table(
        'alert_tracks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('node_id', _node_id(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('since', sa.BigInteger(), nullable=True),
        sa.Column('last_ts', sa.BigInteger(), nullable=True),
        sa.Column('day', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_tracks_rule_id_alert_rules'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_tracks')),
        sa.UniqueConstraint('rule_id', 'node_id', name=op.f('uq_alert_tracks_rule_id')),
        **MYSQL,
    )
    op.create_table(
        'alert_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('node_id', _node_id(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('limit_text', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_alert_events_owner_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_events_rule_id_alert_rules'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events')),
        **MYSQL,
    )
    op.create_index(op.f('ix_alert_events_owner_id'), 'alert_events', ['owner_id'])
    op.create_index(op.f('ix_alert_events_rule_id'), 'alert_events', ['rule_id'])
    op.create_table(
        'notify_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('webhook_url', sa.String(length=500), nullable=True),
        sa.Column('webhook_secret', sa.String(length=128), nullable=True),
        sa.Column('quiet_start', sa.String(length=5), nullable=True),
        sa.Column('quiet_end', sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notify_settings_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notify_settings')),
        **MYSQL,
    )
    op.create_table(
        'alert_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('summary_of', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_deliveries_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['alert_events.id'],
                                name=op.f('fk_alert_deliveries_event_id_alert_events'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
        **MYSQL,
    )
    op.create_index(op.f('ix_alert_deliveries_user_id'), 'alert_deliveries', ['user_id'])
    op.create_index(op.f('ix_alert_deliveries_event_id'), 'alert_deliveries', ['event_id'])
    op.create_index(op.f('ix_alert_deliveries_status'), 'alert_deliveries', ['status'])


def downgrade() -> None:
    for table in ('alert_deliveries', 'notify_settings', 'alert_events', 'alert_tracks', 'alert_rules'):
        op.drop_table(table)
