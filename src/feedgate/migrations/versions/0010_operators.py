"""Named console operators, their sessions, and the audit log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedgate.kit.base import UTCDateTime

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'operators',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('login', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('totp_secret', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.Column('updated', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_operators')),
        sa.UniqueConstraint('login', name=op.f('uq_operators_login')),
    )
    op.create_index(op.f('ix_operators_owner'), 'operators', ['owner'])
    op.create_index(op.f('ix_operators_updated'), 'operators', ['updated'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.String(length=32), nullable=False),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_owner'), 'audit_log', ['owner'])
    op.create_index(op.f('ix_audit_log_at_ms'), 'audit_log', ['at_ms'])
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator_id', sa.String(length=32), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_console_sessions_operator_id'), ['operator_id'])


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_operator_id'))
        batch_op.drop_column('operator_id')
    op.drop_index(op.f('ix_audit_log_at_ms'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_owner'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_operators_updated'), table_name='operators')
    op.drop_index(op.f('ix_operators_owner'), table_name='operators')
    op.drop_table('operators')
