"""webhook formats: feedgate, slack or pagerduty, and PagerDuty's routing key

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.String(length=16), nullable=False, server_default='feedgate'))
        batch_op.add_column(sa.Column('routing_key', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    # Reversible; a Slack or PagerDuty webhook is left sending feedgate's own envelope by the older release.
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('routing_key')
        batch_op.drop_column('format')
