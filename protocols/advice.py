"""What is read to the caller: composed for the final urgency and disposition, never left over from another one.

The text has three parts, in the order they are read: the message (what happens now), the steps (first aid and
pre-arrival instructions, ticked off one by one) and, when nobody comes tonight, the safety net (when to call
back, and what would make it 112).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.model import (
    DISPOSITIONS_FOR,
    NO_VISIT_TONIGHT,
    URGENCIES,
    Complaint,
    Outcome,
    Step,
)

# Alarm signals raise urgency one step each, but never beyond U2 (a signal makes a visit more urgent; sending an
# ambulance is decided by the clinical answers or the operator's concern), and never to a deferral: a worry
# about a client who was to get advice only is a reason to look at her tonight.
SIGNAL_CEILING = "U2"

MESSAGE = {
    "call_112": "Call 112 now for an ambulance, or we call it for you; stay with her until it arrives.",
    "gp_post": "The GP out-of-hours post (huisartsenpost) takes over and will call you back shortly.",
    "nurse_visit": "A night nurse is coming to her tonight.",
    "defer_to_day": "Her own home-care team will come in the morning and will hear about this call; no night "
                    "visit is needed.",
    "advice": "No visit is needed tonight.",
}
URGENT_NURSE = "A night nurse is coming to her as soon as possible."
NURSE_TOO = "A night nurse is coming as well."
DNH_MESSAGE = ("She has a recorded wish not to go to hospital: the GP out-of-hours post takes over, and a night "
               "nurse is coming as soon as possible.")
DNH_SAFETY_NET = ("If she gets worse before the nurse or the GP post is there, call us back at once: we will "
                  "tell the nurse and the doctor. Call 112 only if that is what she or her family want now.")
DNR_STEP = ("She has a recorded do-not-resuscitate wish: do not start resuscitation. Stay with her, keep her "
            "comfortable and tell the nurse or the doctor when they arrive.")
# What anyone waiting for an ambulance does, when the outcome has nothing more specific (an operator's raise).
STEPS_112 = ("Stay with her; do not give her anything to eat or drink.",
             "Unlock the front door and switch on the lights so the ambulance crew can get in.")
SAFETY_NET = {
    "gp_post": "If she gets worse before the GP post calls (difficulty breathing, not responding, severe pain), "
               "call 112.",
    "defer_to_day": "Call us back at any time tonight if anything changes or you are worried; call 112 if she has "
                    "difficulty breathing, stops responding, or has severe pain in the chest.",
    "advice": "Call us back at any time tonight if it does not get better or anything changes; call 112 if she "
              "has difficulty breathing, stops responding, or has severe pain in the chest.",
}


@dataclass(frozen=True)
class Advice:
    urgency: str
    disposition: str
    also_send_nurse: bool
    message: str
    steps: tuple[str, ...]
    safety_net: str
    follow_up: tuple[str, ...]
    explanation: tuple[str, ...]

    @property
    def text(self) -> str:
        lines = [self.message, *(f"{i}. {s}" for i, s in enumerate(self.steps, 1))]
        if self.safety_net:
            lines.append(self.safety_net)
        return "\n".join(line for line in lines if line)


def raise_urgency(urgency: str, steps: int) -> str:
    i = URGENCIES.index(urgency)
    ceiling = URGENCIES.index(SIGNAL_CEILING)
    for _ in range(max(steps, 0)):
        if i <= ceiling:
            break
        i = URGENCIES.index("U3") if URGENCIES[i] == "U5" else i - 1
    return URGENCIES[i]


def fit_disposition(disposition: str, urgency: str) -> str:
    """Keep the disposition if it fits the urgency, else the urgency's default."""
    allowed = DISPOSITIONS_FOR[urgency]
    return disposition if disposition in allowed else allowed[0]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def compose(outcome: Outcome, complaint: Complaint, *, urgency: str, disposition: str, also_send_nurse: bool,
            findings: tuple[str, ...], by_abcd: bool, wishes: frozenset[str], apply_dnh: bool = True) -> Advice:
    explanation: list[str] = []
    message = None
    dnh = False
    if (apply_dnh and disposition == "call_112" and "do_not_hospitalise" in wishes and not outcome.despite_dnh):
        urgency, disposition, also_send_nurse = "U2", "gp_post", True
        message = DNH_MESSAGE
        dnh = True
        explanation.append("the client's do-not-hospitalise wish: GP post and a nurse instead of 112")
    if message is None:
        if disposition == outcome.disposition and also_send_nurse == outcome.also_send_nurse and outcome.advice:
            message = outcome.advice
        elif disposition == "nurse_visit":
            message = URGENT_NURSE if URGENCIES.index(urgency) <= URGENCIES.index("U2") else MESSAGE[disposition]
        else:
            message = MESSAGE[disposition] + (f" {NURSE_TOO}" if also_send_nurse else "")
    steps = _steps(outcome, complaint, disposition=disposition, findings=findings, by_abcd=by_abcd, wishes=wishes)
    if disposition == "call_112" and not steps:
        steps = STEPS_112
    if "do_not_resuscitate" in wishes and any(s.cpr for s in outcome.steps):
        explanation.append("the client's do-not-resuscitate wish: no resuscitation steps")
    safety_net = ("" if disposition not in NO_VISIT_TONIGHT else DNH_SAFETY_NET if dnh
                  else outcome.safety_net or SAFETY_NET[disposition])
    follow_up = _unique([*outcome.follow_up, *(["day_task"] if disposition == "defer_to_day" else []),
                         *(["gp_notification"] if disposition == "gp_post" else [])])
    return Advice(urgency=urgency, disposition=disposition, also_send_nurse=also_send_nurse and disposition in
                  ("call_112", "gp_post"), message=message, steps=steps, safety_net=safety_net, follow_up=follow_up,
                  explanation=tuple(explanation))


def _steps(outcome: Outcome, complaint: Complaint, *, disposition: str, findings: tuple[str, ...], by_abcd: bool,
           wishes: frozenset[str]) -> tuple[str, ...]:
    steps: list[Step] = list(outcome.steps)
    if by_abcd:  # an ABCD outcome keeps the complaint's own first aid: first, as the most specific thing to do
        # (the auto-injector, pressure on the bleed), unless she does not respond: then resuscitation or the
        # recovery position first, and only the first aid that holds when she does not respond
        if "unresponsive" in findings:
            steps += [s for s in complaint.first_aid if s.unresponsive]
        else:
            steps = [*complaint.first_aid, *steps]
    texts: list[str] = []
    for s in steps:
        if s.cpr and "do_not_resuscitate" in wishes:
            texts.append(DNR_STEP)
        elif disposition != "call_112" and "ambulance" in s.text.lower():
            continue  # no ambulance comes: an instruction for its crew would contradict what is done
        else:
            texts.append(s.text)
    return _unique(texts)
