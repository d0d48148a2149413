"""Consent per client, recorded by the client's own organisation (or a coordinator): share the record with the
night team, share the summary from the organisation's record system. Each with its date and source. The
client row holds the current state; every decision is appended to `client_consents` (append-only).

Where it is enforced: `clients/access.py` (`Access.full` for the record, `Access.summary_allowed` for a
cross-system summary)."""
from __future__ import annotations

from datetime import date
from typing import Literal

from sqlmodel import Session

from dispatch.auth.service import Principal
from dispatch.clients.models import Client, ClientConsent

Kind = Literal["night_team", "summary"]
KINDS: tuple[Kind, ...] = ("night_team", "summary")


def current(client: Client, kind: Kind) -> tuple[bool, date | None, str]:
    return (getattr(client, f"consent_{kind}"), getattr(client, f"consent_{kind}_date"),
            getattr(client, f"consent_{kind}_source"))


def record(session: Session, principal: Principal, client: Client, kind: Kind, *, given: bool,
           on: date | None, source: str) -> bool:
    """Set one consent on the client and append it to the history; False (and nothing written) when it is
    what is recorded already. The caller checks who may record it and audits."""
    if current(client, kind) == (given, on, source):
        return False
    setattr(client, f"consent_{kind}", given)
    setattr(client, f"consent_{kind}_date", on)
    setattr(client, f"consent_{kind}_source", source)
    session.add(client)
    assert client.id is not None  # a stored client
    session.add(ClientConsent(client_id=client.id, kind=kind, given=given, consent_date=on, source=source,
                              recorded_by=principal.username))
    return True


def line(client: Client) -> str:
    """'Consent: night team yes (signed form, 2026-10-01); summary no' — as the console shows it."""
    parts = []
    for kind, label in (("night_team", "night team"), ("summary", "summary")):
        given, on, source = current(client, kind)  # type: ignore[arg-type]
        detail = ", ".join(x for x in (source, on.isoformat() if on else "") if x)
        parts.append(f"{label} {'yes' if given else 'no'}{f' ({detail})' if detail else ''}")
    return "Consent: " + "; ".join(parts)
