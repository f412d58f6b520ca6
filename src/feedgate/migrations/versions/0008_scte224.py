"""SCTE 224 import: cue matches, schedule windows' external_id, imports and provenance

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedgate.kit.base import UTCDateTime

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('schedule_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
    op.create_table(
        'cue_matches',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=False),
        sa.Column('match', sa.String(length=8), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('applies', sa.Boolean(), nullable=False),
        sa.Column('blackout_id', sa.String(length=200), nullable=False),
        sa.Column('effective_ms', sa.BigInteger(), nullable=True),
        sa.Column('expires_ms', sa.BigInteger(), nullable=True),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.Column('updated', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_cue_matches_channel_id_channels'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cue_matches')),
        sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_cue_matches_channel_id_external_id')),
    )
    op.create_index(op.f('ix_cue_matches_channel_id'), 'cue_matches', ['channel_id'])
    op.create_index(op.f('ix_cue_matches_updated'), 'cue_matches', ['updated'])
    op.create_table(
        'scte224_imports',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=2000), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('generation', sa.String(length=16), nullable=False),
        sa.Column('changed', sa.Boolean(), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('media', sa.JSON(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('diff', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scte224_imports')),
    )
    op.create_index(op.f('ix_scte224_imports_owner'), 'scte224_imports', ['owner'])
    op.create_index(op.f('ix_scte224_imports_created'), 'scte224_imports', ['created'])
    op.create_table(
        'scte224_objects',
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('media', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('object_id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('owner', 'media', 'kind', 'object_id', name=op.f('pk_scte224_objects')),
    )


def downgrade() -> None:
    op.drop_table('scte224_objects')
    op.drop_index(op.f('ix_scte224_imports_created'), table_name='scte224_imports')
    op.drop_index(op.f('ix_scte224_imports_owner'), table_name='scte224_imports')
    op.drop_table('scte224_imports')
    op.drop_index(op.f('ix_cue_matches_updated'), table_name='cue_matches')
    op.drop_index(op.f('ix_cue_matches_channel_id'), table_name='cue_matches')
    op.drop_table('cue_matches')
    with op.batch_alter_table('schedule_windows', schema=None) as batch_op:
        batch_op.drop_column('external_id')
