"""The road of a protocol version to use: drafted, signed off by two clinicians, published by a coordinator.

A draft records who drafted it; a clinician (a user with the `clinician` flag) signs off the draft's document as
it stands (its sha256), so a change to the document voids the sign-offs given before it. Nobody who drafted or
changed a document signs it off. Publishing needs two distinct clinicians' sign-offs of the current document and
writes the immutable version with its governance record (who drafted, reviewed and published it)."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from dispatch.auth.models import Role, User
from dispatch.auth.service import Principal
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from dispatch.protocol_versions import service as versions
from dispatch.protocol_versions.models import (
    DraftState,
    ProtocolDraft,
    ProtocolSignoff,
    ProtocolVersion,
)
from dispatch.timeutil import utcnow

SIGNOFFS_NEEDED = 2


def _user(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    if user is None or not user.active:
        raise Forbidden("this needs a user of the service", field="user")
    return user


def _name(user: User) -> str:
    return user.full_name or user.username


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def get_draft(session: Session, protocol_id: str, version: int) -> ProtocolDraft:
    found = session.exec(select(ProtocolDraft).where(ProtocolDraft.protocol_id == protocol_id,
                                                     ProtocolDraft.version == version)).first()
    if found is None:
        raise NotFound(f"protocol {protocol_id!r} has no draft of version {version}", field="version")
    return found


def list_drafts(session: Session) -> list[ProtocolDraft]:
    return list(session.exec(select(ProtocolDraft)
                             .order_by(col(ProtocolDraft.protocol_id), col(ProtocolDraft.version))))


def signoffs(session: Session, draft: ProtocolDraft) -> list[ProtocolSignoff]:
    """Every sign-off of the draft, those of earlier documents included (see `valid`)."""
    return list(session.exec(select(ProtocolSignoff).where(ProtocolSignoff.draft_id == draft.id)
                             .order_by(col(ProtocolSignoff.signed_at), col(ProtocolSignoff.id))))


def valid(draft: ProtocolDraft, signoff: ProtocolSignoff) -> bool:
    """A sign-off counts for the document it was given for: a change to the draft voids it."""
    return signoff.sha256 == draft.sha256


def current_signoffs(session: Session, draft: ProtocolDraft) -> list[ProtocolSignoff]:
    return [s for s in signoffs(session, draft) if valid(draft, s)]


def ready(session: Session, draft: ProtocolDraft) -> bool:
    return (draft.state == DraftState.draft
            and len({s.user_id for s in current_signoffs(session, draft)}) >= SIGNOFFS_NEEDED)


def _may_draft(user: User) -> None:
    if user.role != Role.coordinator.value and not user.clinician:
        raise Forbidden("drafting a protocol version needs a coordinator or a clinician", field="role")


def _drafted_by(user: User, given: dict[str, Any] | None, tz: str) -> dict[str, Any]:
    """Who drafted it: as given, or else the user submitting it."""
    given = given or {}
    name = given.get("name") or _name(user)
    profession = given.get("profession") or ("" if given.get("name") else user.profession)
    return {"name": name, "profession": profession, "date": given.get("date") or versions.local_date(utcnow(), tz)}


def submit(session: Session, principal: Principal, *, document: dict[str, Any],
           drafted_by: dict[str, Any] | None, tz: str) -> ProtocolDraft:
    """A new draft version; its number must be above every published one and not drafted yet."""
    user = _user(session, principal)
    _may_draft(user)
    protocol = versions.check_document(document)
    versions.check_above_published(session, protocol)
    if session.exec(select(ProtocolDraft.id).where(ProtocolDraft.protocol_id == protocol.id,
                                                   ProtocolDraft.version == protocol.version)).first():
        raise Conflict(f"{protocol.id} v{protocol.version} is drafted already: change that draft "
                       f"(PUT /api/protocols/{protocol.id}/drafts/{protocol.version})", field="version")
    draft = ProtocolDraft(protocol_id=protocol.id, version=protocol.version, title=protocol.title, document=document,
                          sha256=versions.sha(document), drafted_by=_drafted_by(user, drafted_by, tz),
                          authors=[user.username], updated_by=user.username)
    return versions.insert_once(session, draft, Conflict(f"{protocol.id} v{protocol.version} was drafted concurrently",
                                                         field="version"))


def _open(draft: ProtocolDraft) -> None:
    if draft.state != DraftState.draft:
        raise Conflict(f"{draft.protocol_id} v{draft.version} is published; it cannot change: "
                       f"draft v{draft.version + 1}",
                       field="version")


def change(session: Session, principal: Principal, *, protocol_id: str, version: int,
           document: dict[str, Any] | None, drafted_by: dict[str, Any] | None, tz: str) -> ProtocolDraft:
    """Replace a draft's document (the sign-offs given so far no longer count) or who drafted it."""
    user = _user(session, principal)
    _may_draft(user)
    draft = get_draft(session, protocol_id, version)
    _open(draft)
    if document is not None:
        protocol = versions.check_document(document)
        if (protocol.id, protocol.version) != (protocol_id, version):
            raise Invalid(f"the document is {protocol.id} v{protocol.version}, not the draft's {protocol_id} "
                          f"v{version}", field="document.version")
        versions.check_above_published(session, protocol)
        new_sha = versions.sha(document)
        if new_sha != draft.sha256:
            draft.document, draft.sha256, draft.title = document, new_sha, protocol.title
            if user.username not in draft.authors:
                draft.authors = [*draft.authors, user.username]
    if drafted_by is not None:
        draft.drafted_by = _drafted_by(user, drafted_by, tz)
    draft.updated_at, draft.updated_by = utcnow(), user.username
    session.add(draft)
    session.flush()
    return draft


def sign_off(session: Session, principal: Principal, *, protocol_id: str, version: int, comment: str,
             sha256: str | None) -> ProtocolSignoff:
    """A clinician signs off the draft's current document (`sha256`, when given, must be that document's)."""
    user = _user(session, principal)
    if not user.clinician:
        raise Forbidden("signing off a protocol version needs a clinician (a user with the clinician flag)",
                        field="clinician")
    draft = get_draft(session, protocol_id, version)
    _open(draft)
    if sha256 is not None and sha256 != draft.sha256:
        raise Conflict("the draft changed since this version of it was read: read it again and sign off what it says "
                       "now", field="sha256")
    if user.username in draft.authors or _same_person(_name(user), str(draft.drafted_by.get("name", ""))):
        raise Forbidden(f"{_name(user)} drafted or changed {protocol_id} v{version}: its reviewers are other "
                        "clinicians", field="user")
    if any(s.user_id == user.id for s in current_signoffs(session, draft)):
        raise Conflict(f"{_name(user)} signed off this document already: a second clinician signs it off",
                       field="user")
    assert draft.id is not None and user.id is not None  # stored rows
    record = ProtocolSignoff(draft_id=draft.id, protocol_id=protocol_id, version=version, sha256=draft.sha256,
                             user_id=user.id, username=user.username, name=_name(user),
                             profession=user.profession, comment=comment)
    return versions.insert_once(session, record, Conflict(f"{_name(user)} signed off this document already",
                                                          field="user"))


def publish(session: Session, principal: Principal, *, protocol_id: str, version: int, tz: str) -> ProtocolVersion:
    """Publish a draft signed off by two distinct clinicians; new triages use it (unless a version is pinned)."""
    user = _user(session, principal)
    if user.role != Role.coordinator.value:
        raise Forbidden("publishing a protocol version needs a coordinator", field="role")
    draft = get_draft(session, protocol_id, version)
    _open(draft)
    current = current_signoffs(session, draft)
    reviewers = {s.user_id for s in current}
    if len(reviewers) < SIGNOFFS_NEEDED:
        void = len(signoffs(session, draft)) - len(current)
        raise Conflict(f"{protocol_id} v{version} needs sign-offs by {SIGNOFFS_NEEDED} different clinicians of its "
                       f"current document; it has {len(reviewers)}"
                       + (f" ({void} given for an earlier document no longer count)" if void else ""),
                       field="signoffs")
    now = utcnow()
    governance = {
        "shipped": False, "signed_off": True,
        "statement": f"signed off by {len(reviewers)} clinicians of the region",
        "drafted_by": dict(draft.drafted_by),
        "reviewed_by": [{"name": s.name, "profession": s.profession, "date": versions.local_date(s.signed_at, tz),
                         "comment": s.comment, "username": s.username} for s in current],
        "published_by": {"name": _name(user), "username": user.username},
        "published_at": now.isoformat(), "published_on": versions.local_date(now, tz),
        "sha256": draft.sha256,
    }
    record = versions.write_version(session, draft.document, governance=governance, published_by=user.username,
                                    published_at=now)
    draft.state, draft.updated_at, draft.updated_by = DraftState.published.value, now, user.username
    session.add(draft)
    session.flush()
    return record


def draft_governance(session: Session, draft: ProtocolDraft, tz: str) -> dict[str, Any]:
    """A draft's governance so far (its book shows it): who drafted it, the sign-offs of its current document."""
    current = current_signoffs(session, draft)
    state = ("published" if draft.state == DraftState.published else
             f"draft: {len({s.user_id for s in current})} of {SIGNOFFS_NEEDED} clinicians' sign-offs of this document")
    return {"shipped": False, "signed_off": False, "statement": state, "drafted_by": dict(draft.drafted_by),
            "reviewed_by": [{"name": s.name, "profession": s.profession, "date": versions.local_date(s.signed_at, tz),
                             "comment": s.comment} for s in current],
            "sha256": draft.sha256}
