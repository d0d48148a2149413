"""Protocol versions: published once, never changed; calls keep the version they were triaged with.

A version reaches `protocol_versions` through its draft (drafts.py: two clinicians sign it off, a coordinator
publishes it), or, outside production, as a version shipped with nightcare (`register_shipped`)."""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

import protocols
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.protocol_versions.models import ProtocolDraft, ProtocolVersion
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from protocols.model import Protocol, ProtocolError

log = logging.getLogger("nightcare.protocols")

SHIPPED_BY = "nightcare (shipped default)"
SHIPPED_STATEMENT = "shipped starting point, not signed off by the region's clinicians"


_Row = TypeVar("_Row")


def sha(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def local_date(at: datetime, tz: str) -> str:
    """The date of a moment in the region's time zone (what a governance record shows), YYYY-MM-DD."""
    return at.astimezone(ZoneInfo(tz)).date().isoformat()


@lru_cache(maxsize=64)
def _parsed(sha256: str, document_json: str) -> Protocol:  # cached by content
    return protocols.load(json.loads(document_json))


def as_protocol(version: ProtocolVersion | ProtocolDraft) -> Protocol:
    return _parsed(version.sha256, json.dumps(version.document, sort_keys=True, ensure_ascii=False))


def check_document(document: Any) -> Protocol:
    """The protocol a document describes, or a 422 naming the place that is not sound."""
    try:
        return protocols.load(document)
    except ProtocolError as exc:
        raise Invalid(str(exc), field="document") from None


def latest(session: Session, protocol_id: str) -> ProtocolVersion:
    """The newest published version."""
    version = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id)
                           .order_by(col(ProtocolVersion.version).desc())).first()
    if version is None:
        raise NotFound(f"no published version of protocol {protocol_id!r} (in production the shipped versions wait "
                       "for two clinicians' sign-offs: see GET /api/protocols/drafts)", field="protocol_id")
    return version


def in_use(session: Session, *, protocol_id: str, pin: int | None) -> ProtocolVersion:
    """The version new triages use: the pinned one (NIGHTCARE_PROTOCOL_VERSION) or else the newest published."""
    if pin is None:
        return latest(session, protocol_id)
    found = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id,
                                                       ProtocolVersion.version == pin)).first()
    if found is None:
        raise Conflict(f"NIGHTCARE_PROTOCOL_VERSION pins {protocol_id} v{pin}, which is not published",
                       field="protocol_version")
    return found


def get(session: Session, protocol_id: str, version: int) -> ProtocolVersion:
    found = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id,
                                                       ProtocolVersion.version == version)).first()
    if found is None:
        raise NotFound(f"protocol {protocol_id!r} has no version {version}", field="version")
    return found


def newest_number(session: Session, protocol_id: str) -> int | None:
    return session.exec(select(func.max(ProtocolVersion.version))
                        .where(ProtocolVersion.protocol_id == protocol_id)).one()


def check_above_published(session: Session, protocol: Protocol) -> None:
    newest = newest_number(session, protocol.id)
    if newest is not None and protocol.version <= newest:
        raise Conflict(f"{protocol.id} v{protocol.version} cannot be drafted or published: published versions are "
                       f"immutable and the newest is v{newest}; use v{newest + 1}", field="version")


def write_version(session: Session, document: dict[str, Any], *, governance: dict[str, Any],
                  published_by: str, published_at: datetime | None = None) -> ProtocolVersion:
    """Write the immutable row of a version (its number above every published one)."""
    protocol = check_document(document)
    check_above_published(session, protocol)
    record = ProtocolVersion(protocol_id=protocol.id, version=protocol.version, title=protocol.title,
                             document=document, sha256=sha(document), published_by=published_by,
                             governance=governance, published_at=published_at or utcnow())
    return insert_once(session, record, Conflict(f"{protocol.id} v{protocol.version} was published concurrently",
                                                 field="version"))


def insert_once(session: Session, row: _Row, taken: Conflict) -> _Row:
    """Insert `row`; if a unique key says another request wrote it first, `taken` is raised instead."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise taken from None
    return row


def shipped_governance(*, tz: str) -> dict[str, Any]:
    now = utcnow()
    return {"shipped": True, "signed_off": False, "statement": SHIPPED_STATEMENT,
            "drafted_by": {"name": "nightcare project", "profession": "", "date": ""}, "reviewed_by": [],
            "published_by": SHIPPED_BY, "published_at": now.isoformat(), "published_on": local_date(now, tz)}


def _register(session: Session, document: dict[str, Any], settings: Settings) -> str | None:
    pid, number = document["protocol"], document["version"]
    if session.exec(select(ProtocolVersion.id).where(ProtocolVersion.protocol_id == pid,
                                                     ProtocolVersion.version == number)).first() is not None:
        return None
    if settings.environment != "production":
        write_version(session, document, governance=shipped_governance(tz=settings.region_timezone),
                      published_by=SHIPPED_BY)
        return "published"
    # Production: the region's clinicians sign it off first (drafts.py), unless a draft of that number exists.
    if session.exec(select(ProtocolDraft.id).where(ProtocolDraft.protocol_id == pid,
                                                   ProtocolDraft.version == number)).first() is not None:
        return None
    protocol = check_document(document)
    check_above_published(session, protocol)
    session.add(ProtocolDraft(
        protocol_id=pid, version=number, title=protocol.title, document=document, sha256=sha(document),
        drafted_by={"name": "nightcare project (shipped default)", "profession": "",
                    "date": local_date(utcnow(), settings.region_timezone)},
        authors=[], updated_by=SHIPPED_BY))
    session.flush()
    return "drafted"


def register_shipped(engine: Engine, settings: Settings) -> None:
    """The protocol versions shipped with nightcare that the database does not have yet: published at once outside
    production (labelled as a starting point not signed off); in production, drafts awaiting two sign-offs."""
    for document in protocols.shipped_documents():
        with Session(engine) as session:
            try:
                done = _register(session, document, settings)
                session.commit()
            except (Conflict, IntegrityError) as exc:  # another worker registered it first, or a newer one exists
                session.rollback()
                log.info("shipped %s v%s not registered: %s", document.get("protocol"), document.get("version"),
                         getattr(exc, "detail", type(exc).__name__))
                continue
            if done:
                log.info("shipped %s v%s %s", document["protocol"], document["version"], done)
