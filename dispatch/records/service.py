"""A client's summary from her organisation's record system: access as for her record (clients/access.py), every
fetch audited with its reason, a source that fails or is slow answered with what the night team has, and the
fetched summary kept encrypted for the night only."""
from __future__ import annotations

import json
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.access import Access, nurse_has_job, visible_client
from dispatch.clients.models import Client, ClientExternalId
from dispatch.errors import Forbidden
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.organisations.models import Organisation
from dispatch.ports import RecordSources, RecordSummary, SourceUnavailable
from dispatch.records.models import RecordSummaryCache
from dispatch.records.schemas import NightTeamOut, SummaryOut
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit

log = logging.getLogger("nightcare.records")


def purge_at(fetched_at: datetime, settings: Settings) -> datetime:
    """The morning after the night of `fetched_at`: the next `record_purge_local` (region time) after it."""
    zone = ZoneInfo(settings.region_timezone)
    hour, minute = (int(p) for p in settings.record_purge_local.split(":"))
    local = fetched_at.astimezone(zone)
    at = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return at.astimezone(fetched_at.tzinfo)


def purge(session: Session, *, now: datetime) -> int:
    """Forget the summaries of nights gone by. Returns how many."""
    result = session.execute(delete(RecordSummaryCache).where(col(RecordSummaryCache.expires_at) <= now))
    return int(getattr(result, "rowcount", 0) or 0)  # a CursorResult: the rows deleted


def purge_expired(engine: Engine, *, now: datetime | None = None) -> int:
    with Session(engine) as session:
        removed = purge(session, now=now or utcnow())
        session.commit()
    if removed:
        log.info("purged %d record summaries of past nights", removed)
    return removed


def _access(session: Session, principal: Principal, client_id: int, *, call_id: int | None, visit_id: int | None,
            break_glass_reason: str | None) -> Access:
    """As reading her record; a nurse may name her job (`visit_id`), an operator a job that came from a call."""
    if visit_id is not None and not break_glass_reason:
        visit = session.get(Visit, visit_id)
        if visit is not None and visit.client_id == client_id:
            if principal.role == Role.nurse:
                if visit.nurse_id == principal.nurse_id and nurse_has_job(session, principal, client_id):
                    client = session.get(Client, client_id)
                    if client is not None:
                        return Access(client, f"job {visit_id}", full=client.consent_night_team)
            elif call_id is None and visit.call_id is not None:
                call_id = visit.call_id
        if principal.role in (Role.nurse, Role.operator) and call_id is None:
            raise audit.refused(Forbidden(f"job {visit_id} gives no access to this client", field="visit_id"),
                                principal, action="read", data="client.summary", client_id=client_id,
                                reason=f"job {visit_id} gives no access to this client")
    return visible_client(session, principal, client_id, call_id=call_id, break_glass_reason=break_glass_reason,
                          data="client.summary")


def summary_for(session: Session, principal: Principal, client_id: int, *, call_id: int | None = None,
                visit_id: int | None = None, break_glass_reason: str | None = None, sources: RecordSources,
                cipher: KeysafeCipher, settings: Settings, base_url: str, now: datetime | None = None) -> SummaryOut:
    now = now or utcnow()
    access = _access(session, principal, client_id, call_id=call_id, visit_id=visit_id,
                     break_glass_reason=break_glass_reason)
    client = access.client
    night_team = NightTeamOut(access_notes=client.access_notes,
                              **({"wishes": client.wishes, "risks": client.risks} if access.full else {}))
    if not access.full:
        return SummaryOut(client_id=client_id, available=False, night_team=night_team,
                          reason="the client has not consented to share her record with the night team: "
                                 "break the glass to read it")
    org = session.get(Organisation, client.organisation_id)
    assert org is not None  # the client's organisation (a foreign key)
    identifiers = [(e.system, e.value) for e in session.exec(
        select(ClientExternalId).where(ClientExternalId.client_id == client_id,
                                       ClientExternalId.organisation_id == client.organisation_id))]
    cached = session.exec(select(RecordSummaryCache).where(RecordSummaryCache.client_id == client_id,
                                                           col(RecordSummaryCache.expires_at) > now)).first()
    summary: RecordSummary | None = None
    reason = None
    if cached is not None:
        summary = RecordSummary.from_dict(json.loads(cipher.decrypt(cached.summary_encrypted)))
    else:
        source = sources.for_organisation(org.code, org.name, base_url=base_url)
        if source is None:
            reason = f"{org.name} has no record system connected"
        else:
            # Only reads so far: end the transaction, so that no lock is held while the source is asked (SQLite
            # writers queue for one lock: triage must never wait for a record system).
            session.rollback()
            try:
                summary = source.summary(identifiers)
            except SourceUnavailable as exc:
                reason = str(exc)
                log.warning("record summary of client %s not fetched: %s", client_id, reason)
            if summary is not None:
                _keep(session, client_id, summary, cipher, expires_at=purge_at(now, settings))
    audit.record(session, principal, action="read", data="client.summary", client_ids=[client_id],
                 reason=access.reason if summary is not None else f"{access.reason} (source unavailable: {reason})",
                 break_glass=access.break_glass)
    if summary is None:
        return SummaryOut(client_id=client_id, available=False, reason=reason, night_team=night_team)
    data = summary.to_dict()
    return SummaryOut(client_id=client_id, available=True, cached=cached is not None, night_team=night_team,
                      **{**data, "fetched_at": summary.fetched_at})


def _keep(session: Session, client_id: int, summary: RecordSummary, cipher: KeysafeCipher, *,
          expires_at: datetime) -> None:
    row = session.exec(select(RecordSummaryCache).where(RecordSummaryCache.client_id == client_id)).first()
    row = row or RecordSummaryCache(client_id=client_id, source=summary.source, fetched_at=summary.fetched_at,
                                    expires_at=expires_at, summary_encrypted="")
    row.source, row.fetched_at, row.expires_at = summary.source, summary.fetched_at, expires_at
    row.summary_encrypted = cipher.encrypt(json.dumps(summary.to_dict()))
    session.add(row)
    session.flush()
