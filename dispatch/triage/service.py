"""Triage on a call: run the shared protocol, store every answer, decide, and act on the outcome.

Storage of the runs (a draft in progress, a record written once when decided) is in runs.py."""
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.lifecycle import CallState
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.daytasks.models import DayTask
from dispatch.errors import Conflict, Invalid
from dispatch.protocol_versions import service as versions
from dispatch.settings import Settings
from dispatch.triage import runs
from dispatch.triage.models import Triage, TriageDraft
from dispatch.triage.runs import Run
from dispatch.visits import service as visits
from dispatch.visits.models import Visit
from protocols.engine import AnswerError, Question, Result, walk
from protocols.model import DISPOSITION_ADVICE, DISPOSITIONS, DISPOSITIONS_FOR, SIGNALS, URGENCIES, Protocol

SECOND_CALL_WINDOW = timedelta(hours=24)
RETRIAGE_FROM = (CallState.triaged.value, CallState.queued.value)


def protocol_of(session: Session, triage: Triage | TriageDraft) -> Protocol:
    return versions.as_protocol(versions.get(session, triage.protocol_id, triage.protocol_version))


def step(session: Session, triage: Triage | TriageDraft) -> Question | Result:
    return walk(protocol_of(session, triage), triage.complaint, [tuple(a) for a in triage.answers], triage.signals)


def _second_call(session: Session, call: Call) -> bool:
    if call.client_id is None:
        return False
    earlier = session.exec(select(Call.id).where(
        Call.client_id == call.client_id, Call.id != call.id,
        Call.received_at >= call.received_at - SECOND_CALL_WINDOW, Call.received_at <= call.received_at)).first()
    return earlier is not None


def start(session: Session, principal: Principal, call: Call, *, complaint: str, settings: Settings) -> Run:
    """Start (or restart) triage. A re-triage of a waiting call supersedes the previous run."""
    version = versions.latest(session, settings.protocol_id)
    protocol = versions.as_protocol(version)
    if complaint not in protocol.complaints:
        options = ", ".join(protocol.complaints)
        raise Invalid(f"no entry complaint {complaint!r} in {protocol.id} v{protocol.version} (known: {options})",
                      field="complaint")
    retriage = call.state in RETRIAGE_FROM
    calls.transition(session, principal, call, CallState.triaging,
                     reason=("re-triage: " if retriage else "triage: ") + protocol.complaints[complaint].title)
    return runs.begin(session, call, protocol_id=version.protocol_id, protocol_version=version.version,
                      complaint=complaint, signals=["second_call_24h"] if _second_call(session, call) else [],
                      started_by=principal.username)


def answer(session: Session, run: Run, *, node: str, answer_id: str) -> Run:
    draft = runs.draft_of(session, run)
    answers = [*draft.answers, [node, answer_id.lower()]]
    try:
        walk(protocol_of(session, draft), draft.complaint, [tuple(a) for a in answers], draft.signals)
    except AnswerError as exc:
        raise Invalid(str(exc), field="answer" if "is not an answer" in str(exc) else "node") from None
    return runs.save(session, draft, answers=answers)


def back(session: Session, run: Run) -> Run:
    draft = runs.draft_of(session, run)
    if not draft.answers:
        raise Conflict("there is no answer to take back", field="answers")
    return runs.save(session, draft, answers=draft.answers[:-1])


def set_signals(session: Session, run: Run, signals: list[str]) -> Run:
    draft = runs.draft_of(session, run)
    return runs.save(session, draft, signals=[s for s in SIGNALS if s in set(signals)])


def decide(session: Session, principal: Principal, call: Call, run: Run, *, urgency: str | None,
           disposition: str | None, reason: str, settings: Settings) -> Run:
    """Take the protocol's outcome (or the operator's override), record it once and act on it."""
    draft = runs.draft_of(session, run)
    result = step(session, draft)
    if isinstance(result, Question):
        raise Conflict(f"the protocol has not reached an outcome yet; next question: {result.question}",
                       field="answers", node=result.node)
    final_urgency = urgency or result.urgency
    if URGENCIES.index(final_urgency) > URGENCIES.index(result.urgency) and not reason.strip():
        raise Invalid(f"lowering the urgency from {result.urgency} to {final_urgency} needs a reason", field="reason")
    final_disposition = disposition or (result.disposition if result.disposition in DISPOSITIONS_FOR[final_urgency]
                                        else DISPOSITIONS_FOR[final_urgency][0])
    if final_disposition not in DISPOSITIONS_FOR[final_urgency]:
        raise Invalid(f"disposition {final_disposition} does not fit urgency {final_urgency} "
                      f"(allowed: {', '.join(DISPOSITIONS_FOR[final_urgency])})", field="disposition")
    triage = runs.decide(session, draft, computed={**asdict(result), "trace": [asdict(t) for t in result.trace]},
                         final_urgency=final_urgency, final_disposition=final_disposition,
                         override_reason=reason.strip(), decided_by=principal.username,
                         # The advice read to the caller belongs to what is done: another disposition has its own.
                         advice_given=(result.advice if final_disposition == result.disposition
                                       else DISPOSITION_ADVICE[final_disposition]))
    _act(session, principal, call, triage, result, settings)
    session.flush()
    return Run(triage, "decided")


def _act(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
         settings: Settings) -> None:
    urgency, disposition = triage.final_urgency, triage.final_disposition
    assert urgency is not None and disposition in DISPOSITIONS
    label = f"{urgency} {disposition} ({triage.protocol_id} v{triage.protocol_version}, {triage.complaint})"
    if triage.override_reason:
        label += f"; override: {triage.override_reason}"
    sends_nurse = disposition == "nurse_visit" or (disposition == "call_112" and result.also_send_nurse)
    if (sends_nurse or disposition == "defer_to_day") and call.client_id is None:
        raise Conflict("identify the client before a nurse is sent or the day team is asked", field="client_id")
    calls.transition(session, principal, call, CallState.triaged, reason=label)
    if disposition == "call_112":
        calls.transition(session, principal, call, CallState.escalated, reason="112 called")
    elif disposition == "gp_post":
        calls.transition(session, principal, call, CallState.escalated, reason="handed to the GP out-of-hours post")
    elif disposition == "advice":
        calls.transition(session, principal, call, CallState.advice, reason=f"advice given: {triage.advice_given}")
    elif disposition == "defer_to_day":
        client = session.get(Client, call.client_id)
        assert client is not None
        session.add(DayTask(organisation_id=client.organisation_id, client_id=client.id, call_id=call.id,
                            summary=f"Night call: {_complaint_title(session, triage)} ({urgency}). {call.text}".strip(),
                            advice_given=triage.advice_given))
        calls.transition(session, principal, call, CallState.deferred_to_day, reason="deferred to the day team")
    if sends_nurse:
        calls.transition(session, principal, call, CallState.queued, reason=f"nurse visit, {urgency}")
        _upsert_visit(session, principal, call, triage, result, settings)
    else:  # a re-triage that no longer sends a nurse ends the visit it sent (a closed call has ended it already)
        visits.close_for_call(session, principal, call.id, reason=f"re-triaged: {urgency} {disposition}")


def _complaint_title(session: Session, triage: Triage) -> str:
    return protocol_of(session, triage).complaints[triage.complaint].title


def _upsert_visit(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
                  settings: Settings) -> Visit:
    """The call's acute visit: deadline = call received + the region's target for the urgency. A re-triage
    changes the visit the call already has, in whatever state it is."""
    client = session.get(Client, call.client_id)
    assert client is not None and triage.final_urgency is not None
    deadline = call.received_at + timedelta(minutes=settings.target_minutes(triage.final_urgency))
    visit = visits.open_visit_of_call(session, call.id)  # type: ignore[arg-type]
    created = visit is None
    if visit is None:
        visit = Visit(kind="acute", client_id=client.id, organisation_id=client.organisation_id, call_id=call.id,
                      window_start=call.received_at, window_end=deadline)
    visit.window_end = deadline
    visit.urgency = triage.final_urgency
    visit.service_minutes = result.service_minutes
    visit.skills = list(result.skills)
    visit.notes = f"{triage.final_urgency} {_complaint_title(session, triage)}"
    why = f"triaged {triage.final_urgency}: {_complaint_title(session, triage)}"
    if created:
        return visits.create(session, principal, visit, reason=why)
    return visits.update_acute(session, principal, visit, reason="re-" + why)


def view(session: Session, run: Run, settings: Settings) -> dict[str, Any]:
    triage, decided = run.record, run.decision
    protocol = protocol_of(session, triage)
    complaint = protocol.complaints[triage.complaint]
    current_step = step(session, triage)
    if isinstance(current_step, Question):
        step_out: dict[str, Any] = {"type": "question", "node": current_step.node, "question": current_step.question,
                                    "abcd": current_step.abcd,
                                    "answers": [{"id": a, "label": label} for a, label in current_step.answers]}
    else:
        step_out = {"type": "outcome", **{k: v for k, v in asdict(current_step).items() if k != "trace"}}
    trace = current_step.trace
    visit = session.exec(select(Visit).where(Visit.call_id == triage.call_id)
                         .order_by(col(Visit.id).desc())).first()
    signals = sorted(set(triage.signals) | {t.signal for t in trace if t.signal},
                     key=SIGNALS.index)
    return {
        "id": triage.id, "call_id": triage.call_id, "state": run.state,
        "protocol": {"id": protocol.id, "version": protocol.version, "title": protocol.title, "note": protocol.note},
        "complaint": {"id": complaint.id, "title": complaint.title},
        "answers": [{"node": t.node, "question": t.question, "answer": t.answer, "label": t.label} for t in trace],
        "signals": signals, "step": step_out,
        "decision": None if decided is None else {
            "urgency": decided.final_urgency, "disposition": decided.final_disposition,
            "override_reason": decided.override_reason, "advice_given": decided.advice_given,
            "decided_at": decided.decided_at, "decided_by": decided.decided_by,
            "visit": None if visit is None else {
                "id": visit.id, "deadline": visit.window_end, "state": visit.state, "skills": visit.skills,
                "target_minutes": settings.target_minutes(decided.final_urgency)},
        },
        "started_at": triage.started_at, "started_by": triage.started_by,
    }
