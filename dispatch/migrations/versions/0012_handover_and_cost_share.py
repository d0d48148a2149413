"""the morning handover's pushes to the organisations' FHIR endpoints; cost-share agreements

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handover_pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('last_attempt_at', dispatch.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', dispatch.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', dispatch.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('clients', sa.Integer(), nullable=False),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', 'night', name='uq_handover_pushes_org_night')
    )
    with op.batch_alter_table('handover_pushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_pushes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('cost_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=False),
    sa.Column('last_month', sa.Date(), nullable=True),
    sa.Column('runner_organisation_id', sa.Integer(), nullable=False),
    sa.Column('monthly_cost_cents', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['runner_organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cost_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_agreements_first_month'), ['first_month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cost_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_agreements_first_month'))
    op.drop_table('cost_agreements')
    with op.batch_alter_table('handover_pushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_pushes_organisation_id'))
    op.drop_table('handover_pushes')
