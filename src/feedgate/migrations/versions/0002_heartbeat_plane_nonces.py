"""health inputs move to memory; nonces of bound signatures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_nonces',
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'nonce', name=op.f('pk_auth_nonces'))
    )
    with op.batch_alter_table('auth_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_nonces_expires_ms'), ['expires_ms'], unique=False)
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.drop_column('last_bad_ms')
        batch_op.drop_column('last_bad_reason')


def downgrade() -> None:
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_bad_reason', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('last_bad_ms', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('auth_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_nonces_expires_ms'))
    op.drop_table('auth_nonces')
