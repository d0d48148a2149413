"""Triage on a call: run the shared protocol, store every answer, decide, and act on the outcome.

Storage of the runs (a draft in progress, a record written once when decided) is in runs.py."""
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from dispatch.alerts.service import raise_alert, resolve_alerts
from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.lifecycle import CallState
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.daytasks.models import DayTask
from dispatch.errors import Conflict, Invalid
from dispatch.protocol_versions import service as versions
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.triage import runs
from dispatch.triage.models import GpNotification, Triage, TriageDraft
from dispatch.triage.runs import Run
from dispatch.visits import service as visits
from dispatch.visits.models import Visit
from protocols import engine
from protocols.engine import AnswerError, Context, Question, Result, walk
from protocols.model import DISPOSITIONS, DISPOSITIONS_FOR, SIGNALS, URGENCIES, Protocol

SECOND_CALL_WINDOW = timedelta(hours=24)
RETRIAGE_FROM = (CallState.triaged.value, CallState.queued.value)


def protocol_of(session: Session, triage: Triage | TriageDraft) -> Protocol:
    return versions.as_protocol(versions.get(session, triage.protocol_id, triage.protocol_version))


def _second_call(session: Session, call: Call) -> bool:
    if call.client_id is None:
        return False
    earlier = session.exec(select(Call.id).where(
        Call.client_id == call.client_id, Call.id != call.id,
        Call.received_at >= call.received_at - SECOND_CALL_WINDOW, Call.received_at <= call.received_at)).first()
    return earlier is not None


def context_of(session: Session, call: Call | None, triage: Triage | TriageDraft) -> Context:
    """What the walk needs beyond the answers: the client's wishes and risk flags, the operator's concern."""
    client = session.get(Client, call.client_id) if call is not None and call.client_id is not None else None
    return Context(wishes=frozenset(client.wishes) if client else frozenset(),
                   risks=frozenset(client.risks) if client else frozenset(),
                   concern_to_112=bool(triage.concern_reason))


def signals_of(session: Session, call: Call | None, triage: Triage | TriageDraft) -> list[str]:
    """The operator's signals and the detected ones. Detection runs on every step, so a client identified after
    triage started is checked for a second call too, and no edit of the signals can drop it."""
    if isinstance(triage, Triage) or call is None:
        return list(triage.signals)
    detected = {"second_call_24h"} if _second_call(session, call) else set()
    return [s for s in SIGNALS if s in set(triage.signals) | detected]


def start(session: Session, principal: Principal, call: Call, *, complaint: str, settings: Settings) -> Run:
    """Start (or restart) triage. A re-triage of a waiting call supersedes the previous run."""
    version = versions.in_use(session, protocol_id=settings.protocol_id, pin=settings.protocol_version)
    protocol = versions.as_protocol(version)
    if complaint not in protocol.complaints:
        options = ", ".join(protocol.complaints)
        raise Invalid(f"no entry complaint {complaint!r} in {protocol.id} v{protocol.version} (known: {options})",
                      field="complaint")
    retriage = call.state in RETRIAGE_FROM
    calls.transition(session, principal, call, CallState.triaging,
                     reason=("re-triage: " if retriage else "triage: ") + protocol.complaints[complaint].title)
    return runs.begin(session, call, protocol_id=version.protocol_id, protocol_version=version.version,
                      complaint=complaint, signals=[], started_by=principal.username)


def answer(session: Session, run: Run, *, node: str, answer_id: str) -> Run:
    draft = runs.draft_of(session, run)
    answers = [*draft.answers, [node, answer_id.lower()]]
    try:
        walk(protocol_of(session, draft), draft.complaint, [(a[0], a[1]) for a in answers])
    except AnswerError as exc:  # an unknown answer is invalid; an answer to another question, out of turn
        if "is not an answer" in str(exc):
            raise Invalid(str(exc), field="answer") from None
        raise Conflict(str(exc), field="node") from None
    return runs.save(session, draft, answers=answers)


def back(session: Session, run: Run) -> Run:
    draft = runs.draft_of(session, run)
    if not draft.answers:
        raise Conflict("there is no answer to take back", field="answers")
    return runs.save(session, draft, answers=draft.answers[:-1])


def set_signals(session: Session, run: Run, signals: list[str], *, concern_reason: str | None = None) -> Run:
    """The operator's alarm signals; detected ones are not hers to drop (signals_of adds them on every step).
    A concern with a reason raises the call to 112; an empty reason takes it back."""
    draft = runs.draft_of(session, run)
    if concern_reason is not None:
        draft.concern_reason = concern_reason.strip()
    operator_set = [s for s in SIGNALS if s in set(signals) and s not in ("second_call_24h", "known_high_risk")]
    return runs.save(session, draft, signals=operator_set)


def decide(session: Session, principal: Principal, call: Call, run: Run, *, urgency: str | None,
           disposition: str | None, reason: str, settings: Settings) -> Run:
    """Take the protocol's outcome (or the operator's override), record it once and act on it. Deciding before
    the protocol reached an outcome needs an urgency and a reason; the questions skipped are counted."""
    draft = runs.draft_of(session, run)
    protocol = protocol_of(session, draft)
    context = context_of(session, call, draft)
    signals = signals_of(session, call, draft)
    current = walk(protocol, draft.complaint, [(a[0], a[1]) for a in draft.answers], signals, context)
    skipped = 0
    if isinstance(current, Question):
        if urgency is None or not reason.strip():
            raise Conflict(f"the protocol has not reached an outcome yet; next question: {current.question} "
                           "(to decide now, give the urgency and a reason)", field="answers", node=current.node)
        final_disposition = disposition or DISPOSITIONS_FOR[urgency][0]
        _check_fits(urgency, final_disposition)
        skipped = current.remaining
        result = computed = engine.unguided(protocol, draft.complaint, current, urgency=urgency,
                                            disposition=final_disposition, signals=signals, context=context)
    else:
        computed = current
        final_urgency = urgency or current.urgency
        if URGENCIES.index(final_urgency) > URGENCIES.index(current.urgency) and not reason.strip():
            raise Invalid(f"lowering the urgency from {current.urgency} to {final_urgency} needs a reason",
                          field="reason")
        final_disposition = disposition or (current.disposition if current.disposition in
                                            DISPOSITIONS_FOR[final_urgency] else DISPOSITIONS_FOR[final_urgency][0])
        _check_fits(final_urgency, final_disposition)
        # The advice read to the caller belongs to what is done: an override gets the advice of its own.
        result = engine.decide(protocol, draft.complaint, current, urgency=final_urgency,
                               disposition=final_disposition, context=context)
    triage = runs.decide(session, draft, computed={**asdict(computed), "trace": [asdict(t) for t in computed.trace]},
                         final_urgency=result.urgency, final_disposition=result.disposition,
                         override_reason=reason.strip(), decided_by=principal.username, advice_given=result.advice,
                         signals=signals, questions_asked=result.questions_asked, questions_skipped=skipped,
                         dont_know=result.dont_know)
    _act(session, principal, call, triage, result, settings)
    session.flush()
    return Run(triage, "decided")


def _check_fits(urgency: str, disposition: str) -> None:
    if disposition not in DISPOSITIONS_FOR[urgency]:
        raise Invalid(f"disposition {disposition} does not fit urgency {urgency} "
                      f"(allowed: {', '.join(DISPOSITIONS_FOR[urgency])})", field="disposition")


# Dispositions that call someone else in at once: recordable before the client is known, as the call to them
# cannot wait for a name. What needs the client (the nurse, a task for her own team) waits for her to be named.
ESCALATIONS = {"call_112": "112 called", "gp_post": "handed to the GP out-of-hours post"}
UNIDENTIFIED = "client_unidentified"  # the alert raised while a nurse or day task waits for the client's name


def _act(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
         settings: Settings) -> None:
    urgency, disposition = triage.final_urgency, triage.final_disposition
    assert urgency is not None and disposition in DISPOSITIONS
    label = f"{urgency} {disposition} ({triage.protocol_id} v{triage.protocol_version}, {triage.complaint})"
    if triage.override_reason:
        label += f"; override: {triage.override_reason}"
    if triage.concern_reason:
        label += f"; operator's concern: {triage.concern_reason}"
    waiting = _needs_client(result) if call.client_id is None else []
    if waiting and disposition not in ESCALATIONS:
        raise Conflict("identify the client before a nurse is sent or the day team is asked", field="client_id")
    calls.transition(session, principal, call, CallState.triaged, reason=label)
    if disposition in ESCALATIONS:
        calls.transition(session, principal, call, CallState.escalated, reason=ESCALATIONS[disposition])
    elif disposition == "advice":
        calls.transition(session, principal, call, CallState.advice, reason=f"advice given: {result.message}")
    elif disposition == "defer_to_day":
        calls.transition(session, principal, call, CallState.deferred_to_day, reason="deferred to the day team")
    _notify_gp(session, principal, call, triage, result)
    if "senior_review" in result.flags:
        raise_alert(session, kind="senior_review", call_id=call.id,
                    message=f"call {call.id}: a second call within 24 h about a {urgency} outcome; the senior "
                            "triage nurse reviews it")
    if waiting:
        done = "112 called" if disposition == "call_112" else "the GP post is called"
        raise_alert(session, kind=UNIDENTIFIED, call_id=call.id,
                    message=f"{done} for call {call.id}; identify the client to {' and '.join(waiting)}")
        return
    _for_the_client(session, principal, call, triage, result, settings)


def _needs_client(result: Result) -> list[str]:
    """What the outcome does that needs the client's name (said as the alert says it)."""
    return ((["send the nurse"] if result.sends_nurse else [])
            + (["ask her own team"] if "day_task" in result.follow_up else []))


def _for_the_client(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
                    settings: Settings) -> None:
    """What the outcome does for the client herself: a task for her own team, and the nurse."""
    if "day_task" in result.follow_up:
        _ask_own_team(session, call, triage)
    _send_nurse(session, principal, call, triage, result, settings)


def _ask_own_team(session: Session, call: Call, triage: Triage) -> None:
    client = session.get(Client, call.client_id)
    assert client is not None and client.id is not None and call.id is not None
    session.add(DayTask(organisation_id=client.organisation_id, client_id=client.id, call_id=call.id,
                        summary=f"Night call: {_complaint_title(session, triage)} ({triage.final_urgency} "
                                f"{triage.final_disposition}). {call.text}".strip(),
                        advice_given=triage.advice_given))


def _send_nurse(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
                settings: Settings) -> None:
    """The nurse, when the outcome sends one; a re-triage that no longer does ends the visit it sent (a closed
    call has ended it already)."""
    assert call.id is not None  # a stored call
    if result.sends_nurse:
        calls.transition(session, principal, call, CallState.queued, reason=f"nurse visit, {triage.final_urgency}")
        _upsert_visit(session, principal, call, triage, result, settings)
    else:
        visits.close_for_call(session, principal, call.id,
                              reason=f"re-triaged: {triage.final_urgency} {triage.final_disposition}")


def client_identified(session: Session, principal: Principal, call: Call, *, settings: Settings) -> None:
    """The client of a call is named after its triage was decided (112 or the GP post called at once): what
    waited for her name is done now — her own team asked, the nurse sent — and the alert that asked for her name
    is resolved. Done once: a second identification finds the task and the visit there already."""
    if call.client_id is None or call.state != CallState.escalated.value:
        return  # nothing can have waited (the usual identification: before or without 112/the GP post)
    history = runs.history(session, call)
    triage = history[-1].decision if history else None
    if triage is None:
        return
    assert call.id is not None
    result = decided_result(session, triage)
    if "day_task" in result.follow_up and session.exec(
            select(DayTask.id).where(DayTask.call_id == call.id)).first() is None:
        _ask_own_team(session, call, triage)
    if result.sends_nurse and session.exec(select(Visit.id).where(Visit.call_id == call.id)).first() is None:
        _send_nurse(session, principal, call, triage, result, settings)
    resolve_alerts(session, principal, kind=UNIDENTIFIED, call_id=call.id)


def decided_result(session: Session, triage: Triage) -> Result:
    """What a decided triage did, rebuilt from its record as decide() built it: the protocol's outcome as computed,
    with the operator's override applied (an override is deterministic: the same record gives the same result)."""
    computed = dict(triage.computed)
    trace = tuple(engine.TraceStep(**{k: v for k, v in t.items() if k in engine.TraceStep.__dataclass_fields__})
                  for t in computed.pop("trace", []))
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in computed.items()
                              if k in Result.__dataclass_fields__}
    result = Result(**fields, trace=trace)
    assert triage.final_urgency is not None
    return engine.decide(protocol_of(session, triage), triage.complaint, result, urgency=triage.final_urgency,
                         disposition=triage.final_disposition,
                         context=Context(concern_to_112=bool(triage.concern_reason)))


def _notify_gp(session: Session, principal: Principal, call: Call, triage: Triage, result: Result) -> None:
    """An outcome that involves the GP post: what was asked and said, written to it once."""
    assert call.id is not None and triage.id is not None  # stored rows
    if "gp_notification" in result.follow_up:
        answers = "; ".join(f"{t.question} — {t.label}" for t in result.trace)
        text = (f"Night call {call.id}, {_complaint_title(session, triage)}: {triage.final_urgency} "
                f"{triage.final_disposition}. Answers: {answers or 'none'}. Told to the caller: {triage.advice_given}")
        session.add(GpNotification(call_id=call.id, triage_id=triage.id, client_id=call.client_id, text=text[:8000],
                                   created_at=utcnow(), created_by=principal.username))


def _complaint_title(session: Session, triage: Triage) -> str:
    return protocol_of(session, triage).complaints[triage.complaint].title


def _upsert_visit(session: Session, principal: Principal, call: Call, triage: Triage, result: Result,
                  settings: Settings) -> Visit:
    """The call's acute visit: deadline = call received + the region's target for the urgency. A re-triage
    changes the visit the call already has, in whatever state it is."""
    client = session.get(Client, call.client_id)
    assert client is not None and client.id is not None and call.id is not None and triage.final_urgency is not None
    deadline = call.received_at + timedelta(minutes=settings.target_minutes(triage.final_urgency))
    visit = visits.open_visit_of_call(session, call.id)
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
    if decided is not None:  # what the protocol computed when it was decided, as it was
        step_out: dict[str, Any] = {"type": "outcome", **{k: v for k, v in decided.computed.items() if k != "trace"}}
        trace = [engine.TraceStep(**{k: v for k, v in t.items() if k in engine.TraceStep.__dataclass_fields__})
                 for t in decided.computed.get("trace", [])]
        signals = set(decided.signals) | set(decided.computed.get("signals", []))
    else:
        call = session.get(Call, triage.call_id)
        signals = set(signals_of(session, call, triage))  # asked once: the walk and the view share it
        current_step = walk(protocol, triage.complaint, [(a[0], a[1]) for a in triage.answers], signals,
                            context_of(session, call, triage))
        if isinstance(current_step, Question):
            step_out = {"type": "question", "node": current_step.node, "question": current_step.question,
                        "abcd": current_step.abcd, "remaining": current_step.remaining,
                        "answers": [{"id": a, "label": label} for a, label in current_step.answers]}
        else:
            step_out = {"type": "outcome", **{k: v for k, v in asdict(current_step).items() if k != "trace"}}
            signals = set(current_step.signals)
        trace = list(current_step.trace)
    visit = session.exec(select(Visit).where(Visit.call_id == triage.call_id)
                         .order_by(col(Visit.id).desc())).first()
    signals |= {t.signal for t in trace if t.signal}
    notified = [] if decided is None else session.exec(
        select(GpNotification).where(GpNotification.triage_id == decided.id)).all()
    call_now = session.get(Call, triage.call_id)
    waiting = (_needs_client(decided_result(session, decided)) if decided is not None and run.state == "decided"
               and call_now is not None and call_now.client_id is None else [])
    return {
        "id": triage.id, "call_id": triage.call_id, "state": run.state,
        "protocol": {"id": protocol.id, "version": protocol.version, "title": protocol.title, "note": protocol.note},
        "complaint": {"id": complaint.id, "title": complaint.title},
        "answers": [{"node": t.node, "question": t.question, "answer": t.answer, "label": t.label} for t in trace],
        "signals": [s for s in SIGNALS if s in signals], "concern_reason": triage.concern_reason, "step": step_out,
        "decision": None if decided is None else {
            "urgency": decided.final_urgency, "disposition": decided.final_disposition,
            "override_reason": decided.override_reason, "advice_given": decided.advice_given,
            "decided_at": decided.decided_at, "decided_by": decided.decided_by,
            "questions_asked": decided.questions_asked, "questions_skipped": decided.questions_skipped,
            "dont_know": decided.dont_know,
            "gp_notifications": [{"id": n.id, "text": n.text, "created_at": n.created_at} for n in notified],
            "waiting_for_client": waiting,  # what is done once the client is named ("send the nurse", ...)
            "visit": None if visit is None else {
                "id": visit.id, "deadline": visit.window_end, "state": visit.state, "skills": visit.skills,
                "target_minutes": settings.target_minutes(decided.final_urgency)},
        },
        "started_at": triage.started_at, "started_by": triage.started_by,
    }
