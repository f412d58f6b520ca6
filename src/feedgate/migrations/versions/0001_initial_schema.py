"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import feedgate.kit.base

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audiences',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('desc', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('match_type', sa.String(length=8), nullable=False),
    sa.Column('country_codes', sa.JSON(), nullable=False),
    sa.Column('zip_codes', sa.JSON(), nullable=False),
    sa.Column('dma_codes', sa.JSON(), nullable=False),
    sa.Column('ip_networks', sa.JSON(), nullable=False),
    sa.Column('devices', sa.JSON(), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audiences')),
    sa.UniqueConstraint('owner', 'external_id', name=op.f('uq_audiences_owner_external_id'))
    )
    with op.batch_alter_table('audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audiences_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_audiences_updated'), ['updated'], unique=False)

    op.create_table('config_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_version'))
    )
    op.create_table('failover_groups',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('auto_failback', sa.Boolean(), nullable=False),
    sa.Column('hot_warm', sa.Integer(), nullable=False),
    sa.Column('no_slicer', sa.Boolean(), nullable=False),
    sa.Column('active_slicer', sa.String(length=32), nullable=True),
    sa.Column('failover_time', sa.BigInteger(), nullable=False),
    sa.Column('no_candidate', sa.Boolean(), nullable=False),
    sa.Column('heartbeat_timeout_ms', sa.Integer(), nullable=False),
    sa.Column('clear_after_ms', sa.Integer(), nullable=False),
    sa.Column('blacklist_ms', sa.Integer(), nullable=False),
    sa.Column('input_loss_ms', sa.Integer(), nullable=False),
    sa.Column('video_black_ms', sa.Integer(), nullable=False),
    sa.Column('audio_silence_ms', sa.Integer(), nullable=False),
    sa.Column('dropped_frames_pct', sa.Float(), nullable=False),
    sa.Column('upload_queue_s', sa.Float(), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failover_groups'))
    )
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failover_groups_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_failover_groups_updated'), ['updated'], unique=False)

    op.create_table('tombstones',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('deleted_at', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tombstones'))
    )
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tombstones_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tombstones_kind'), ['kind'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('api_key', sa.String(length=64), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_table('zip_dma',
    sa.Column('zip', sa.String(length=5), nullable=False),
    sa.Column('dma', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('zip', name=op.f('pk_zip_dma'))
    )
    op.create_table('audience_members',
    sa.Column('super_id', sa.String(length=32), nullable=False),
    sa.Column('sub_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sub_id'], ['audiences.id'], name=op.f('fk_audience_members_sub_id_audiences'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['super_id'], ['audiences.id'], name=op.f('fk_audience_members_super_id_audiences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('super_id', 'sub_id', name=op.f('pk_audience_members'))
    )
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audience_members_sub_id'), ['sub_id'], unique=False)

    op.create_table('channels',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('desc', sa.String(length=500), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('failover_group_id', sa.String(length=32), nullable=True),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['failover_group_id'], ['failover_groups.id'], name=op.f('fk_channels_failover_group_id_failover_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('owner', 'external_id', name=op.f('uq_channels_owner_external_id'))
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channels_failover_group_id'), ['failover_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channels_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_channels_updated'), ['updated'], unique=False)

    op.create_table('failover_events',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('failover_group_id', sa.String(length=32), nullable=False),
    sa.Column('time', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_slicer_id', sa.String(length=200), nullable=True),
    sa.Column('to_slicer_id', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['failover_group_id'], ['failover_groups.id'], name=op.f('fk_failover_events_failover_group_id_failover_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failover_events'))
    )
    with op.batch_alter_table('failover_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failover_events_failover_group_id'), ['failover_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_failover_events_time'), ['time'], unique=False)

    op.create_table('failover_group_allowed_owners',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('failover_group_id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['failover_group_id'], ['failover_groups.id'], name=op.f('fk_failover_group_allowed_owners_failover_group_id_failover_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failover_group_allowed_owners')),
    sa.UniqueConstraint('failover_group_id', 'owner', name=op.f('uq_failover_group_allowed_owners_failover_group_id_owner'))
    )
    with op.batch_alter_table('failover_group_allowed_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failover_group_allowed_owners_failover_group_id'), ['failover_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_failover_group_allowed_owners_owner'), ['owner'], unique=False)

    op.create_table('rules',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('desc', sa.String(length=500), nullable=False),
    sa.Column('all_viewers', sa.Boolean(), nullable=False),
    sa.Column('alternate_content_type', sa.String(length=16), nullable=False),
    sa.Column('alternate_content_id', sa.String(length=200), nullable=False),
    sa.Column('alternate_content_loop', sa.Boolean(), nullable=False),
    sa.Column('audience_id', sa.String(length=32), nullable=True),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audience_id'], ['audiences.id'], name=op.f('fk_rules_audience_id_audiences'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules')),
    sa.UniqueConstraint('owner', 'external_id', name=op.f('uq_rules_owner_external_id'))
    )
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rules_audience_id'), ['audience_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rules_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_rules_updated'), ['updated'], unique=False)

    op.create_table('slicers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('slicer_id', sa.String(length=100), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('thumb_url', sa.String(length=2000), nullable=False),
    sa.Column('failover_group_id', sa.String(length=32), nullable=True),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('last_heartbeat_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_bad_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_bad_reason', sa.String(length=200), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('healthy_since_ms', sa.BigInteger(), nullable=True),
    sa.Column('blacklist_until', sa.BigInteger(), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['failover_group_id'], ['failover_groups.id'], name=op.f('fk_slicers_failover_group_id_failover_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slicers')),
    sa.UniqueConstraint('owner', 'slicer_id', name=op.f('uq_slicers_owner_slicer_id'))
    )
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slicers_failover_group_id'), ['failover_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slicers_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_slicers_updated'), ['updated'], unique=False)

    op.create_table('blackouts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('blackout_id', sa.String(length=200), nullable=False),
    sa.Column('desc', sa.String(length=500), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_blackouts_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blackouts')),
    sa.UniqueConstraint('channel_id', 'blackout_id', name=op.f('uq_blackouts_channel_id_blackout_id')),
    sa.UniqueConstraint('channel_id', 'external_id', name=op.f('uq_blackouts_channel_id_external_id'))
    )
    with op.batch_alter_table('blackouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blackouts_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_blackouts_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_blackouts_updated'), ['updated'], unique=False)

    op.create_table('program_tags',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('blackout_id', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_program_tags_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_tags'))
    )
    with op.batch_alter_table('program_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_program_tags_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_program_tags_start_ms'), ['start_ms'], unique=False)

    op.create_table('schedule_windows',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('blackout_id', sa.String(length=200), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('created', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', feedgate.kit.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_schedule_windows_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_windows'))
    )
    with op.batch_alter_table('schedule_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_windows_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedule_windows_updated'), ['updated'], unique=False)

    op.create_table('blackout_rules',
    sa.Column('blackout_pk', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['blackout_pk'], ['blackouts.id'], name=op.f('fk_blackout_rules_blackout_pk_blackouts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_blackout_rules_rule_id_rules'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('blackout_pk', 'position', name=op.f('pk_blackout_rules'))
    )
    with op.batch_alter_table('blackout_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blackout_rules_rule_id'), ['rule_id'], unique=False)
    op.bulk_insert(sa.table('config_version', sa.column('id', sa.Integer), sa.column('version', sa.Integer)),
                   [{'id': 1, 'version': 0}])


def downgrade() -> None:
    with op.batch_alter_table('blackout_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blackout_rules_rule_id'))

    op.drop_table('blackout_rules')
    with op.batch_alter_table('schedule_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_windows_updated'))
        batch_op.drop_index(batch_op.f('ix_schedule_windows_channel_id'))

    op.drop_table('schedule_windows')
    with op.batch_alter_table('program_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_program_tags_start_ms'))
        batch_op.drop_index(batch_op.f('ix_program_tags_channel_id'))

    op.drop_table('program_tags')
    with op.batch_alter_table('blackouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blackouts_updated'))
        batch_op.drop_index(batch_op.f('ix_blackouts_owner'))
        batch_op.drop_index(batch_op.f('ix_blackouts_channel_id'))

    op.drop_table('blackouts')
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slicers_updated'))
        batch_op.drop_index(batch_op.f('ix_slicers_owner'))
        batch_op.drop_index(batch_op.f('ix_slicers_failover_group_id'))

    op.drop_table('slicers')
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rules_updated'))
        batch_op.drop_index(batch_op.f('ix_rules_owner'))
        batch_op.drop_index(batch_op.f('ix_rules_audience_id'))

    op.drop_table('rules')
    with op.batch_alter_table('failover_group_allowed_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failover_group_allowed_owners_owner'))
        batch_op.drop_index(batch_op.f('ix_failover_group_allowed_owners_failover_group_id'))

    op.drop_table('failover_group_allowed_owners')
    with op.batch_alter_table('failover_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failover_events_time'))
        batch_op.drop_index(batch_op.f('ix_failover_events_failover_group_id'))

    op.drop_table('failover_events')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channels_updated'))
        batch_op.drop_index(batch_op.f('ix_channels_owner'))
        batch_op.drop_index(batch_op.f('ix_channels_failover_group_id'))

    op.drop_table('channels')
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audience_members_sub_id'))

    op.drop_table('audience_members')
    op.drop_table('zip_dma')
    op.drop_table('users')
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tombstones_kind'))
        batch_op.drop_index(batch_op.f('ix_tombstones_deleted_at'))

    op.drop_table('tombstones')
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failover_groups_updated'))
        batch_op.drop_index(batch_op.f('ix_failover_groups_owner'))

    op.drop_table('failover_groups')
    op.drop_table('config_version')
    with op.batch_alter_table('audiences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audiences_updated'))
        batch_op.drop_index(batch_op.f('ix_audiences_owner'))

    op.drop_table('audiences')
