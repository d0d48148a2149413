"""Writing and reading the audit log (NEN 7513: event, when, client, user, on whose behalf, why).

Entries are hash-chained (dispatch/audit/chain.py) when their transaction commits: `record` stages them
on the session, and just before the commit they are numbered, linked onto the last entry and inserted, in
that same transaction. Chaining at the commit keeps the time two writers wait for each other short: on
PostgreSQL a transaction-level advisory lock, taken just before the insert and held to the commit,
serialises chaining (two transactions never chain onto the same predecessor; the unique seq would refuse
it anyway); SQLite writers are serial already (BEGIN IMMEDIATE). The cost per transaction is one read of
the last entry (the unique index on seq) and, on PostgreSQL, that lock.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import event, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from dispatch.audit import chain
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client
from dispatch.errors import AppError


def _entry(principal: Principal, *, action: str, data: str, client_id: int | None, reason: str,
           break_glass: bool, outcome: str, on_behalf_of: str) -> AuditEntry:
    return AuditEntry(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role.value,
        organisation_id=principal.organisation_id,
        on_behalf_of=on_behalf_of,
        client_id=client_id,
        action=action,
        data=data,
        reason=reason[:1000],
        break_glass=break_glass,
        outcome=outcome,
        source_address=principal.source_address,
    )


def record(session: Session, principal: Principal, *, action: str, data: str, client_ids: Iterable[int | None],
           reason: str = "", break_glass: bool = False, on_behalf_of: str = "") -> None:
    """Audit an allowed access, in the same transaction as the access itself."""
    session.connection()  # join the transaction (begin it if need be): its rollback drops what is staged
    staged = session.info.setdefault(_STAGED, [])
    for client_id in dict.fromkeys(client_ids):  # once per client, order kept
        staged.append(_entry(principal, action=action, data=data, client_id=client_id, reason=reason,
                             break_glass=break_glass, outcome="allowed", on_behalf_of=on_behalf_of))


def refused(exc: AppError, principal: Principal, *, action: str, data: str, client_id: int | None,
            reason: str) -> AppError:
    """Attach the audit entry of a refused access to the error refusing it.

    The request's transaction is rolled back; the session dependency then commits the entry alone (it
    is chained at that commit like any other).
    """
    exc.keep.append(_entry(principal, action=action, data=data, client_id=client_id, reason=reason,
                           break_glass=False, outcome="denied", on_behalf_of=""))
    return exc


_STAGED = "audit_staged"
# pg_advisory_xact_lock key serialising the chain ("ncaudit1"); any other use of this key would block on it.
CHAIN_LOCK = 0x6E63_6175_6469_7431


def chain_onto_last(session: Session, entries: list[AuditEntry]) -> None:
    """Number and link `entries` onto the newest entry in the database, and add them to the session."""
    with session.no_autoflush:  # entries already in the session must not be inserted before they are linked
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
        last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(col(AuditEntry.seq).desc())
                               .limit(1)).first()
    chain.link(entries, last_seq=last.seq if last else 0, last_hash=last.hash if last else chain.GENESIS)
    session.add_all(entries)


@event.listens_for(OrmSession, "before_commit")
def _chain_before_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the entries wait for the transaction's own commit
    entries = session.info.pop(_STAGED, [])
    # Entries added to the session directly (a refused access kept through a rollback, see db.py).
    added = sorted((o for o in session.new if isinstance(o, AuditEntry) and o.seq is None), key=lambda e: e.at)
    for entry in added:
        session.expunge(entry)
    entries += added
    if entries:
        # Everything else is written first: holding the lock, the transaction then only inserts its entries and
        # commits, and never waits for a row another transaction (perhaps waiting for the lock) has locked.
        session.flush()
        chain_onto_last(session, entries)  # type: ignore[arg-type]


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_staged(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (after a commit nothing is left staged)
        session.info.pop(_STAGED, None)


def query(session: Session, principal: Principal, *, client_id: int | None = None, username: str | None = None,
          since: datetime | None = None, until: datetime | None = None, limit: int = 100,
          offset: int = 0) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if principal.role == Role.partner:
        # A partner sees who accessed its own clients, nothing else.
        own = select(Client.id).where(Client.organisation_id == principal.organisation_id)
        stmt = stmt.where(col(AuditEntry.client_id).in_(own))
    if client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == client_id)
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    stmt = stmt.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(stmt))


def verify(session: Session, *, page_size: int = 5000) -> chain.Walker:
    """Walk the whole chain in seq order, a page at a time (bounded memory), up to the first broken link."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    columns = [table.c.id, table.c.prev_hash, table.c.hash, *(table.c[name] for name in chain.FIELDS)]
    walker = chain.Walker()
    while True:
        page = session.execute(sa_select(*columns).where(table.c.seq > walker.last_seq)
                               .order_by(table.c.seq).limit(page_size)).all()
        if not page or not walker.feed(page):
            return walker


def check_anchor(session: Session, walker: chain.Walker, *, seq: int, hash_: str) -> str | None:
    """Compare an entry with a hash noted earlier outside the database; None if it matches, else the problem.

    An anchor catches what the chain alone cannot: entries removed from the end, or a log re-chained
    from some entry on by someone able to write it."""
    if seq > walker.last_seq:
        return (f"anchor seq {seq} is past the end of the log (seq {walker.last_seq}): "
                "entries were removed from the end")
    stored = session.execute(select(AuditEntry.hash).where(AuditEntry.seq == seq)).scalar_one()
    if stored != hash_.lower():
        return f"seq {seq} has hash {stored}, not the anchored {hash_}: the log was re-chained from there or before"
    return None
