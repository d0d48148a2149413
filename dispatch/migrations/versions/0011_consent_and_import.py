"""consent per client (night team, summary; date and source) with its append-only history; key safe present

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-10
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db
from dispatch.migrations import append_only

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keysafe_present', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consent_night_team_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('consent_night_team_source', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))
        # No one has consented to share a summary before it could be recorded.
        batch_op.add_column(sa.Column('consent_summary', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consent_summary_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('consent_summary_source', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))

    op.create_table('client_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('recorded_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('client_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_consents_client_id'), ['client_id'], unique=False)
    append_only.create('client_consents')


def downgrade() -> None:
    append_only.drop('client_consents')
    op.drop_table('client_consents')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('consent_summary_source')
        batch_op.drop_column('consent_summary_date')
        batch_op.drop_column('consent_summary')
        batch_op.drop_column('consent_night_team_source')
        batch_op.drop_column('consent_night_team_date')
        batch_op.drop_column('keysafe_present')
