"""record summaries: the night's cache of summaries fetched from partners' record systems (encrypted)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fetched_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('summary_encrypted', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    with op.batch_alter_table('record_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_summaries_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_summaries_expires_at'))
    op.drop_table('record_summaries')
