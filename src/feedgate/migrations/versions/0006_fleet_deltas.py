"""a fleet that moves at once: one version per domain, the fleet's change log, disruption records, and the
signals feedgate observes itself kept apart from the slicer's own, and groups whose events stay off webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Row 1 was the one configuration version; it stays the decisions' version, and the fleet gets its own.
    op.bulk_insert(sa.table('config_version', sa.column('id', sa.Integer), sa.column('version', sa.Integer)),
                   [{'id': 2, 'version': 0}])
    op.create_table('fleet_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=32), nullable=True),
    sa.Column('slicer_key', sa.String(length=32), nullable=True),
    sa.Column('changed_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fleet_changes'))
    )
    with op.batch_alter_table('fleet_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_changes_version'), ['version'], unique=False)
        batch_op.create_index(batch_op.f('ix_fleet_changes_changed_ms'), ['changed_ms'], unique=False)
    op.create_table('fleet_disruptions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('started_ms', sa.BigInteger(), nullable=False),
    sa.Column('ended_ms', sa.BigInteger(), nullable=True),
    sa.Column('silent', sa.Integer(), nullable=False),
    sa.Column('considered', sa.Integer(), nullable=False),
    sa.Column('held_groups', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fleet_disruptions'))
    )
    with op.batch_alter_table('fleet_disruptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_disruptions_started_ms'), ['started_ms'], unique=False)
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('observed', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('failover_groups', schema=None) as batch_op:
        batch_op.drop_column('notify')
    with op.batch_alter_table('slicers', schema=None) as batch_op:
        batch_op.drop_column('observed')
    with op.batch_alter_table('fleet_disruptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_disruptions_started_ms'))
    op.drop_table('fleet_disruptions')
    with op.batch_alter_table('fleet_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_changes_changed_ms'))
        batch_op.drop_index(batch_op.f('ix_fleet_changes_version'))
    op.drop_table('fleet_changes')
    op.execute("DELETE FROM config_version WHERE id = 2")
