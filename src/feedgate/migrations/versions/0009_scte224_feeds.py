"""SCTE 224 rights feeds: a URL per user, polled with conditional GETs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedgate.kit.base import UTCDateTime

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scte224_feeds',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('interval_s', sa.Integer(), nullable=False),
        sa.Column('channel_map', sa.JSON(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.Column('updated', UTCDateTime(), nullable=False),
        sa.Column('next_check_ms', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('checked_ms', sa.BigInteger(), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=False),
        sa.Column('last_import_id', sa.String(length=32), nullable=False),
        sa.Column('etag', sa.String(length=500), nullable=False),
        sa.Column('last_modified', sa.String(length=100), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scte224_feeds')),
    )
    op.create_index(op.f('ix_scte224_feeds_owner'), 'scte224_feeds', ['owner'])
    op.create_index(op.f('ix_scte224_feeds_updated'), 'scte224_feeds', ['updated'])
    op.create_index(op.f('ix_scte224_feeds_next_check_ms'), 'scte224_feeds', ['next_check_ms'])


def downgrade() -> None:
    op.drop_index(op.f('ix_scte224_feeds_next_check_ms'), table_name='scte224_feeds')
    op.drop_index(op.f('ix_scte224_feeds_updated'), table_name='scte224_feeds')
    op.drop_index(op.f('ix_scte224_feeds_owner'), table_name='scte224_feeds')
    op.drop_table('scte224_feeds')
