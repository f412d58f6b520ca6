"""the viewer's stream: a slicer's HLS playlist URL, and the frozen-playlist threshold

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hls_url', sa.String(length=2000), nullable=False, server_default=''))
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('playlist_stale_ms', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.drop_column('playlist_stale_ms')
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.drop_column('hls_url')
