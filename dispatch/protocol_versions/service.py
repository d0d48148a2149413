"""Protocol versions: published once, never changed; calls keep the version they were triaged with."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

import protocols
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.protocol_versions.models import ProtocolVersion
from protocols.model import Protocol, ProtocolError


def _sha(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@lru_cache(maxsize=64)
def _parsed(sha256: str, document_json: str) -> Protocol:  # versions are immutable: cache by content
    return protocols.load(json.loads(document_json))


def as_protocol(version: ProtocolVersion) -> Protocol:
    return _parsed(version.sha256, json.dumps(version.document, sort_keys=True, ensure_ascii=False))


def latest(session: Session, protocol_id: str) -> ProtocolVersion:
    version = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id)
                           .order_by(col(ProtocolVersion.version).desc())).first()
    if version is None:
        raise NotFound(f"no published version of protocol {protocol_id!r}", field="protocol_id")
    return version


def get(session: Session, protocol_id: str, version: int) -> ProtocolVersion:
    found = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id,
                                                       ProtocolVersion.version == version)).first()
    if found is None:
        raise NotFound(f"protocol {protocol_id!r} has no version {version}", field="version")
    return found


def publish(session: Session, document: dict[str, Any], *, published_by: str) -> ProtocolVersion:
    """Validate and publish a new version; its number must be above every published one."""
    try:
        protocol = protocols.load(document)
    except ProtocolError as exc:
        raise Invalid(str(exc), field="document") from None
    newest = session.exec(select(func.max(ProtocolVersion.version))
                          .where(ProtocolVersion.protocol_id == protocol.id)).one()
    if newest is not None and protocol.version <= newest:
        raise Conflict(f"{protocol.id} v{protocol.version} cannot be published: versions are immutable and the "
                       f"newest is v{newest}; publish v{newest + 1}", field="version")
    record = ProtocolVersion(protocol_id=protocol.id, version=protocol.version, title=protocol.title,
                             document=document, sha256=_sha(document), published_by=published_by)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{protocol.id} v{protocol.version} was published concurrently", field="version") from None
    return record


def register_shipped(engine: Engine) -> None:
    """Publish the protocol versions shipped with nightcare that the database does not have yet."""
    for document in protocols.shipped_documents():
        with Session(engine) as session:
            exists = session.exec(select(ProtocolVersion.id).where(
                ProtocolVersion.protocol_id == document["protocol"],
                ProtocolVersion.version == document["version"])).first()
            if exists is not None:
                continue
            try:
                publish(session, document, published_by="nightcare (shipped default)")
                session.commit()
            except Conflict:  # another worker registered it first
                session.rollback()
