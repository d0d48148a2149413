"""protocol v2 in triage: the client's wishes and risk flags, the operator's concern, how the protocol was followed
(questions asked, skipped, don't know), notifications to the GP post, longer advice (steps and safety net)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('clients', sa.Column('wishes', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('clients', sa.Column('risks', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('triage_drafts', sa.Column('concern_reason', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                             nullable=False, server_default=''))
    op.add_column('triages', sa.Column('concern_reason', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                       nullable=False, server_default=''))
    for name in ('questions_asked', 'questions_skipped', 'dont_know'):
        op.add_column('triages', sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite does not enforce a VARCHAR's length
        op.alter_column('triages', 'advice_given', type_=sqlmodel.sql.sqltypes.AutoString(length=4000))
        op.alter_column('day_tasks', 'advice_given', type_=sqlmodel.sql.sqltypes.AutoString(length=4000))
    op.create_table('gp_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('triage_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gp_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gp_notifications_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gp_notifications_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gp_notifications_triage_id'), ['triage_id'], unique=False)


def downgrade() -> None:
    op.drop_table('gp_notifications')
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('day_tasks', 'advice_given', type_=sqlmodel.sql.sqltypes.AutoString(length=2000))
        op.alter_column('triages', 'advice_given', type_=sqlmodel.sql.sqltypes.AutoString(length=2000))
    for name in ('dont_know', 'questions_skipped', 'questions_asked', 'concern_reason'):
        op.drop_column('triages', name)
    op.drop_column('triage_drafts', 'concern_reason')
    op.drop_column('clients', 'risks')
    op.drop_column('clients', 'wishes')
