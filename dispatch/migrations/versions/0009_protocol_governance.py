"""protocol governance: drafts, clinicians' sign-offs (append-only), the governance record of a published version,
clinicians among the users

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db
from dispatch.migrations import append_only

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SHIPPED_BY = 'nightcare (shipped default)'
# What versions published before this migration say about their governance (written once, here).
SHIPPED = {'shipped': True, 'signed_off': False,
           'statement': "shipped starting point, not signed off by the region's clinicians",
           'drafted_by': {'name': 'nightcare project', 'profession': '', 'date': ''}, 'reviewed_by': [],
           'published_by': SHIPPED_BY}
EARLIER = {'shipped': False, 'signed_off': False,
           'statement': 'published before sign-offs were recorded', 'drafted_by': None, 'reviewed_by': []}


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clinician', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('profession', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                      server_default=''))

    # The published versions are immutable: their triggers step aside while the new column is filled in.
    append_only.drop('protocol_versions')
    op.add_column('protocol_versions', sa.Column('governance', sa.JSON(), nullable=False, server_default='{}'))
    versions = sa.table('protocol_versions', sa.column('published_by', sa.String()), sa.column('governance', sa.JSON()))
    op.execute(versions.update().where(versions.c.published_by == SHIPPED_BY).values(governance=SHIPPED))
    op.execute(versions.update().where(versions.c.published_by != SHIPPED_BY).values(governance=EARLIER))
    append_only.create('protocol_versions')

    op.create_table('protocol_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('protocol_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('drafted_by', sa.JSON(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('protocol_id', 'version')
    )
    with op.batch_alter_table('protocol_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protocol_drafts_protocol_id'), ['protocol_id'], unique=False)

    op.create_table('protocol_signoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('protocol_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('profession', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('signed_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['protocol_drafts.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_id', 'sha256', 'user_id')
    )
    with op.batch_alter_table('protocol_signoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protocol_signoffs_draft_id'), ['draft_id'], unique=False)
    append_only.create('protocol_signoffs')


def downgrade() -> None:
    append_only.drop('protocol_signoffs')
    op.drop_table('protocol_signoffs')
    op.drop_table('protocol_drafts')
    append_only.drop('protocol_versions')
    with op.batch_alter_table('protocol_versions', schema=None) as batch_op:
        batch_op.drop_column('governance')
    append_only.create('protocol_versions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('full_name')
        batch_op.drop_column('profession')
        batch_op.drop_column('clinician')
