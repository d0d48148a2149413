"""FHIR resources (already parsed and validated by fhir.resources) → the night nurse's summary, alerts first."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dispatch.ports import RecordAlert, RecordContact, RecordSummary

# Flag codes (SNOMED CT) and words that make a flag one of the night's alerts.
ALERT_CODES = {"304253006": "do_not_resuscitate"}  # SNOMED CT: not for resuscitation
ALERT_WORDS = (("resusc", "do_not_resuscitate"), ("dnr", "do_not_resuscitate"), ("infect", "infection_risk"),
               ("mrsa", "infection_risk"), ("isolat", "infection_risk"), ("aggress", "aggression"),
               ("violen", "aggression"))
ALERT_ORDER = {"do_not_resuscitate": 0, "infection_risk": 1, "aggression": 2, "other": 3}
INACTIVE = {"inactive", "resolved", "remission", "entered-in-error", "stopped", "completed", "cancelled", "revoked"}


def concept_text(concept) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text
    for coding in concept.coding or ():
        if coding.display:
            return coding.display
    return next((c.code for c in concept.coding or () if c.code), "")


def _status(concept) -> str:
    return ((concept.coding or [None])[0].code or "") if concept is not None and concept.coding else ""


def alert_kind(concept) -> str:
    for coding in (concept.coding or ()) if concept is not None else ():
        if coding.code in ALERT_CODES:
            return ALERT_CODES[coding.code]
    text = concept_text(concept).lower()
    return next((kind for word, kind in ALERT_WORDS if word in text), "other")


def _dosage(dosages) -> str:
    return next((d.text for d in dosages or () if d.text), "")


def _with(main: str, detail: str) -> str:
    return f"{main} — {detail}" if main and detail else main or detail


def summarise(resources: Iterable, *, source: str, fetched_at: datetime) -> RecordSummary:
    alerts: list[RecordAlert] = []
    problems: list[str] = []
    medication: list[str] = []
    allergies: list[str] = []
    care_plan: list[str] = []
    contacts: list[RecordContact] = []
    observations: list[str] = []
    for r in resources:
        kind = r.get_resource_type()
        if kind == "Flag" and r.status == "active":
            alerts.append(RecordAlert(alert_kind(r.code), concept_text(r.code)))
        elif kind == "Condition" and _status(r.clinicalStatus) not in INACTIVE:
            problems.append(concept_text(r.code))
        elif kind == "MedicationStatement" and r.status not in INACTIVE:
            medication.append(_with(concept_text(r.medicationCodeableConcept), _dosage(r.dosage)))
        elif kind == "MedicationRequest" and r.status not in INACTIVE:
            medication.append(_with(concept_text(r.medicationCodeableConcept), _dosage(r.dosageInstruction)))
        elif kind == "AllergyIntolerance" and _status(r.clinicalStatus) not in INACTIVE:
            reactions = ", ".join(concept_text(m) for x in r.reaction or () for m in x.manifestation or ())
            allergies.append(_with(concept_text(r.code), reactions))
        elif kind == "CarePlan" and r.status not in INACTIVE:
            care_plan.append(_with(r.title or "", r.description or ""))
            care_plan += [n.text for n in r.note or () if n.text]
        elif kind == "RelatedPerson" and r.active is not False:
            name = next((n.text or " ".join([*(n.given or []), n.family or ""]).strip() for n in r.name or ()), "")
            relationship = ", ".join(concept_text(c) for c in r.relationship or ())
            phone = next((t.value for t in r.telecom or () if t.system == "phone" and t.value), "")
            contacts.append(RecordContact(name or "(no name)", relationship, phone))
        elif kind == "Observation" and r.status not in ("entered-in-error", "cancelled"):
            value = ""
            if r.valueQuantity is not None:
                value = f"{r.valueQuantity.value} {r.valueQuantity.unit or ''}".strip()
            elif r.valueString:
                value = r.valueString
            elif r.valueCodeableConcept is not None:
                value = concept_text(r.valueCodeableConcept)
            when = r.effectiveDateTime.isoformat()[:16] if r.effectiveDateTime else ""
            observations.append(_with(concept_text(r.code), " ".join(x for x in (value, when and f"({when})") if x)))
    alerts.sort(key=lambda a: ALERT_ORDER.get(a.kind, 9))
    return RecordSummary(source=source, fetched_at=fetched_at, alerts=tuple(alerts),
                         problems=tuple(p for p in problems if p), medication=tuple(m for m in medication if m),
                         allergies=tuple(a for a in allergies if a), care_plan=tuple(c for c in care_plan if c),
                         contacts=tuple(contacts), observations=tuple(observations))
