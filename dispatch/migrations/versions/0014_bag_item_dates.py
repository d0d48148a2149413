"""bag item dates: the night bag remembers each item's calibration and expiry dates from the last check

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bag_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calibration_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bag_items', schema=None) as batch_op:
        batch_op.drop_column('expires_on')
        batch_op.drop_column('calibration_due')
