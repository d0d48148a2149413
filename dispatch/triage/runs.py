"""Where triage runs are kept (see models.py): drafts while in progress, a record written once when decided.

A run's state is derived, never stored: the newest run of a call is `in_progress` (a draft) or `decided`
(a record); every older run is `superseded`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from dispatch.calls.models import Call
from dispatch.errors import Conflict, NotFound
from dispatch.triage.models import Triage, TriageDraft


@dataclass(frozen=True)
class Run:
    """One run of the protocol on a call, as the API shows it."""

    record: TriageDraft | Triage
    state: str  # in_progress | decided | superseded

    @property
    def decision(self) -> Triage | None:
        return self.record if isinstance(self.record, Triage) else None


def history(session: Session, call: Call) -> list[Run]:
    """Every run of the call, oldest first."""
    drafts = session.exec(select(TriageDraft).where(TriageDraft.call_id == call.id)).all()
    decided = session.exec(select(Triage).where(Triage.call_id == call.id)).all()
    records: list[TriageDraft | Triage] = sorted([*drafts, *decided], key=lambda r: r.id or 0)
    newest = len(records) - 1
    return [Run(r, "superseded" if i < newest else "decided" if isinstance(r, Triage) else "in_progress")
            for i, r in enumerate(records)]


def current(session: Session, call: Call) -> Run:
    runs = history(session, call)
    if not runs:
        raise NotFound(f"call {call.id} has not been triaged yet", field="call_id")
    return runs[-1]


def begin(session: Session, call: Call, *, protocol_id: str, protocol_version: int, complaint: str,
          signals: list[str], started_by: str) -> Run:
    """A new run: it supersedes every earlier run of the call."""
    assert call.id is not None  # a stored call
    draft = TriageDraft(call_id=call.id, protocol_id=protocol_id, protocol_version=protocol_version,
                        complaint=complaint, signals=signals, started_by=started_by)
    session.add(draft)
    session.flush()
    return Run(draft, "in_progress")


def draft_of(session: Session, run: Run) -> TriageDraft:
    """The run's draft, locked for this transaction; 409 if the run is decided or superseded."""
    if run.state != "in_progress":
        raise Conflict(f"triage {run.record.id} is {run.state}; start a re-triage to change it", field="call_id")
    draft = session.exec(select(TriageDraft).where(TriageDraft.id == run.record.id).with_for_update()
                         .execution_options(populate_existing=True)).first()
    if draft is None:  # decided by someone else meanwhile (PostgreSQL: we waited for their commit)
        raise Conflict(f"triage {run.record.id} was decided meanwhile; start a re-triage to change it",
                       field="call_id")
    return draft


def save(session: Session, draft: TriageDraft, *, answers: list[list[str]] | None = None,
         signals: list[str] | None = None) -> Run:
    if answers is not None:
        draft.answers = answers
    if signals is not None:
        draft.signals = signals
    session.add(draft)
    session.flush()
    return Run(draft, "in_progress")


def decide(session: Session, draft: TriageDraft, *, computed: dict[str, Any], final_urgency: str,
           final_disposition: str, override_reason: str, advice_given: str, decided_by: str, signals: list[str],
           questions_asked: int, questions_skipped: int, dont_know: int) -> Triage:
    """Write the run's decision once, under the draft's id, and drop the draft."""
    triage = Triage(id=draft.id, call_id=draft.call_id, protocol_id=draft.protocol_id,
                    protocol_version=draft.protocol_version, complaint=draft.complaint, answers=list(draft.answers),
                    signals=list(signals), computed=computed, final_urgency=final_urgency,
                    final_disposition=final_disposition, override_reason=override_reason,
                    concern_reason=draft.concern_reason, questions_asked=questions_asked,
                    questions_skipped=questions_skipped, dont_know=dont_know,
                    advice_given=advice_given, started_at=draft.started_at, started_by=draft.started_by,
                    decided_by=decided_by)
    session.delete(draft)
    session.add(triage)
    session.flush()
    return triage
