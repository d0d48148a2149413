"""tamper-evident records: append-only call events and triages (drafts kept apart), hash-chained audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch.db
from dispatch.audit import chain
from dispatch.migrations import append_only

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PAGE = 5000
DRAFT_COLUMNS = "id, call_id, protocol_id, protocol_version, complaint, answers, signals, started_at, started_by"
DECISION_COLUMNS = (('computed', sa.JSON()), ('final_urgency', sqlmodel.sql.sqltypes.AutoString(length=2)),
                    ('final_disposition', sqlmodel.sql.sqltypes.AutoString(length=20)),
                    ('decided_at', dispatch.db.UTCDateTime(timezone=True)),
                    ('decided_by', sqlmodel.sql.sqltypes.AutoString(length=80)))


def upgrade() -> None:
    append_only.create("call_events")
    _split_triages()
    append_only.create("triages")
    # Runs as the owner: the append-only trigger is dropped to number and link the existing entries.
    append_only.drop("audit_entries")
    _chain_audit_entries()
    append_only.create("audit_entries")


def _split_triages() -> None:
    op.create_table('triage_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('protocol_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('protocol_version', sa.Integer(), nullable=False),
    sa.Column('complaint', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('started_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('triage_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_drafts_call_id'), ['call_id'], unique=False)

    # Runs never decided (in progress, or abandoned and superseded) become drafts under the same ids.
    op.execute(f"INSERT INTO triage_drafts ({DRAFT_COLUMNS}) SELECT {DRAFT_COLUMNS} FROM triages "
               "WHERE decided_at IS NULL")
    op.execute("DELETE FROM triages WHERE decided_at IS NULL")
    # New runs take ids after every existing run (a decided run keeps its draft's id).
    top = op.get_bind().execute(sa.text("SELECT max(id) FROM (SELECT id FROM triages UNION ALL "
                                        "SELECT id FROM triage_drafts) AS runs")).scalar()
    if top:
        if op.get_bind().dialect.name == "sqlite":
            op.execute("DELETE FROM sqlite_sequence WHERE name = 'triage_drafts'")
            op.execute(f"INSERT INTO sqlite_sequence (name, seq) VALUES ('triage_drafts', {int(top)})")
        else:
            op.execute(f"SELECT setval(pg_get_serial_sequence('triage_drafts', 'id'), {int(top)})")

    # `superseded` is derived now (a later run of the call); every row left is a decision.
    with op.batch_alter_table('triages', schema=None) as batch_op:
        batch_op.drop_column('state')
        for name, type_ in DECISION_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)


def _audit_table() -> sa.TableClause:
    return sa.table('audit_entries', sa.column('id', sa.Integer()), sa.column('seq', sa.Integer()),
                    sa.column('at', dispatch.db.UTCDateTime(timezone=True)), sa.column('user_id', sa.Integer()),
                    sa.column('username', sa.String()), sa.column('role', sa.String()),
                    sa.column('organisation_id', sa.Integer()), sa.column('on_behalf_of', sa.String()),
                    sa.column('client_id', sa.Integer()), sa.column('action', sa.String()),
                    sa.column('data', sa.String()), sa.column('reason', sa.String()),
                    sa.column('break_glass', sa.Boolean()), sa.column('outcome', sa.String()),
                    sa.column('source_address', sa.String()), sa.column('prev_hash', sa.String()),
                    sa.column('hash', sa.String()))


def _chain_audit_entries() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    # The entries already written are chained in id order (the order they were written in), a page at a time.
    entries = _audit_table()
    update = (entries.update().where(entries.c.id == sa.bindparam('b_id'))
              .values(seq=sa.bindparam('b_seq'), prev_hash=sa.bindparam('b_prev_hash'), hash=sa.bindparam('b_hash')))
    bind = op.get_bind()
    last_id, last_seq, last_hash = 0, 0, chain.GENESIS
    while True:
        rows = bind.execute(sa.select(entries).where(entries.c.id > last_id).order_by(entries.c.id)
                            .limit(PAGE)).all()
        if not rows:
            break
        linked = [SimpleNamespace(**row._mapping) for row in rows]
        last_seq, last_hash = chain.link(linked, last_seq=last_seq, last_hash=last_hash)
        bind.execute(update, [{"b_id": e.id, "b_seq": e.seq, "b_prev_hash": e.prev_hash, "b_hash": e.hash}
                              for e in linked])
        last_id = rows[-1].id

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_seq'), ['seq'], unique=True)


def downgrade() -> None:
    append_only.drop("audit_entries")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_seq'))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    append_only.create("audit_entries")

    append_only.drop("triages")
    with op.batch_alter_table('triages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='decided'))
        for name, type_ in DECISION_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
    with op.batch_alter_table('triages', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), server_default=None)
    op.execute(f"INSERT INTO triages ({DRAFT_COLUMNS}, state, override_reason, advice_given) "
               f"SELECT {DRAFT_COLUMNS}, 'in_progress', '', '' FROM triage_drafts")
    op.execute("UPDATE triages SET state = 'superseded' "
               "WHERE id < (SELECT max(later.id) FROM triages AS later WHERE later.call_id = triages.call_id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('triages', 'id'), max(id)) FROM triages HAVING max(id) > 0")
    with op.batch_alter_table('triage_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_drafts_call_id'))
    op.drop_table('triage_drafts')
    append_only.drop("call_events")
