"""The handover as an HL7 FHIR document Bundle, built and validated with fhir.resources' R4B models.

In the spirit of the Dutch nursing handover (eOverdracht), not a claim of conformance to its profiles: the Bundle is
a `document`; its first entry is the organisation's Composition of the night, with a section per client pointing
at that client's own Composition. A client's Composition has sections for the night's calls and triage (questions,
answers, outcome), observations (an Observation per vital sign, LOINC-coded, grouped under a NEWS2 score
Observation, SNOMED-coded), nursing actions (an Encounter per visit: its times, materials, the nurse's handover
note), the advice given and the follow-up tasks for the day team (Task). GP notifications are Communications.
Resources are linked by `urn:uuid:` full URLs derived from the organisation, night and record ids, so the same
night builds the same Bundle.
"""
from __future__ import annotations

import html
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from dispatch.errors import AppError

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NAMESPACE = uuid.UUID("6f1d1c2e-6c0a-4c59-9a55-7d0e0f3c1a17")
XHTML = "http://www.w3.org/1999/xhtml"
# (field, LOINC code, display, UCUM unit)
VITALS = (
    ("respiration_rate", "9279-1", "Respiratory rate", "/min"),
    ("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    ("systolic_bp", "8480-6", "Systolic blood pressure", "mm[Hg]"),
    ("pulse", "8867-4", "Heart rate", "/min"),
    ("temperature", "8310-5", "Body temperature", "Cel"),
)
NEWS2_CODE = ("1104051000000101", "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score")
TASK_STATUS = {"open": "requested", "done": "completed"}


class BundleInvalid(AppError):
    status = 500
    error = "fhir_invalid"


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, '/'.join(str(p) for p in parts))}"


def _narrative(lines: list[str]) -> dict[str, str]:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines) or "<p>Nothing recorded.</p>"
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


class _Doc:
    def __init__(self, handover: dict[str, Any]) -> None:
        self.h = handover
        self.key = (handover["organisation"]["code"], handover["night"])
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, ident: object, resource: dict[str, Any]) -> str:
        url = _urn(*self.key, kind, ident)
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _observations(doc: _Doc, obs: dict[str, Any], patient: str, encounter: str) -> str:
    members = []
    base = {"status": "final", "subject": {"reference": patient}, "encounter": {"reference": encounter},
            "effectiveDateTime": obs["recorded_at"]}
    category = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                             "code": "vital-signs", "display": "Vital Signs"}]}]
    for field, code, display, unit in VITALS:
        members.append(doc.add("obs", f"{obs['id']}-{field}", {
            "resourceType": "Observation", **base, "category": category, "code": _coding(LOINC, code, display),
            "valueQuantity": {"value": obs[field], "unit": unit, "system": UCUM, "code": unit}}))
    members.append(doc.add("obs", f"{obs['id']}-acvpu", {
        "resourceType": "Observation", **base, "category": category,
        "code": _coding(LOINC, "67775-7", "Level of responsiveness"), "valueString": obs["consciousness"]}))
    members.append(doc.add("obs", f"{obs['id']}-oxygen", {
        "resourceType": "Observation", **base, "category": category,
        "code": {"text": "Supplemental oxygen"}, "valueBoolean": obs["on_oxygen"]}))
    return doc.add("obs", f"{obs['id']}-news2", {
        "resourceType": "Observation", **base, "code": _coding(SNOMED, *NEWS2_CODE),
        "valueInteger": obs["news2_total"], "interpretation": [{"text": f"NEWS2 risk: {obs['news2_risk']}"}],
        "hasMember": [{"reference": m} for m in members]})


def _client(doc: _Doc, entry: dict[str, Any], org_url: str, team_url: str) -> str:
    c = entry["client"]
    patient: dict[str, Any] = {"resourceType": "Patient", "name": [{"family": c["family_name"],
                                                                     "given": [c["given_name"]]}],
                               "address": [{"text": c["address"]}], "managingOrganization": {"reference": org_url}}
    if c["identifier"]:
        patient["identifier"] = [{"system": f"urn:nightcare:{doc.key[0]}:{c['identifier']['system']}",
                                  "value": c["identifier"]["value"]}]
    if c["date_of_birth"]:
        patient["birthDate"] = c["date_of_birth"]
    patient_url = doc.add("patient", c["id"], patient)
    subject = {"reference": patient_url}

    call_lines, advice_lines, gp_refs = [], [], []
    for call in entry["calls"]:
        call_lines.append(f"Call {call['id']} at {call['received_at']} ({call['source']}): {call['text']}".strip())
        for t in call["triages"]:
            prefix = "" if t["current"] else "(superseded) "
            call_lines.append(f"{prefix}Triage {t['protocol']}, complaint {t['complaint']}:")
            call_lines += [f"  {q['question']} — {q['label']}" for q in t["questions"]]
            outcome = f"Outcome {t['final_urgency']} / {t['final_disposition']}"
            if t["override_reason"]:
                outcome += f" (protocol said {t['computed_urgency']}; override: {t['override_reason']})"
            call_lines.append(outcome)
            if t["advice_given"] and t["current"]:
                advice_lines.append(f"Call {call['id']}: {t['advice_given']}")
        for n in call["gp_notifications"]:
            gp_refs.append(doc.add("gp", n["id"], {
                "resourceType": "Communication", "status": "completed", "subject": subject,
                "sent": n["created_at"], "recipient": [{"display": "GP out-of-hours post"}],
                "payload": [{"contentString": n["text"]}]}))

    action_lines, obs_refs, encounter_refs = [], [], []
    for v in entry["visits"]:
        period = {k: x for k, x in (("start", v["on_scene_at"]), ("end", v["completed_at"])) if x}
        status = {"completed": "finished", "cancelled": "cancelled", "on_scene": "in-progress"}.get(v["state"],
                                                                                                   "planned")
        encounter = {"resourceType": "Encounter", "status": status,
                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH",
                               "display": "home health"},
                     "subject": subject, "serviceProvider": {"reference": team_url}}
        if period:
            encounter["period"] = period
        enc_url = doc.add("visit", v["id"], encounter)
        encounter_refs.append(enc_url)
        line = f"Visit {v['id']} ({v['kind']}, {v['state']})"
        if v["nurse"]:
            line += f" by {v['nurse']}"
        if v["on_scene_at"]:
            line += f", on scene {v['on_scene_at']}"
        if v["completed_at"]:
            line += f", completed {v['completed_at']}"
        action_lines.append(line)
        if v["materials"]:
            action_lines.append("Materials: " + ", ".join(f"{m['quantity']} × {m['item']}" for m in v["materials"]))
        if v["handover_note"]:
            action_lines.append(f"Nurse's handover note: {v['handover_note']}")
        obs_refs += [_observations(doc, o, patient_url, enc_url) for o in v["observations"]]

    task_refs = []
    for t in entry["day_tasks"]:
        task = {"resourceType": "Task", "status": TASK_STATUS.get(t["state"], "requested"), "intent": "order",
                "description": t["summary"], "for": subject, "owner": {"reference": org_url},
                "authoredOn": t["created_at"]}
        if t["advice_given"]:
            task["note"] = [{"text": f"Advice given: {t['advice_given']}"}]
        task_refs.append(doc.add("task", t["id"], task))

    def section(title: str, code: dict[str, Any] | None, lines: list[str], refs: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"title": title, "text": _narrative(lines)}
        if code:
            out["code"] = code
        if refs:
            out["entry"] = [{"reference": r} for r in refs]
        else:
            out["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                              "code": "nilknown", "display": "Nil Known"}]}
        return out

    name = f"{c['given_name']} {c['family_name']}"
    composition = {
        "resourceType": "Composition", "status": "final" if doc.h["final"] else "preliminary",
        "type": _coding(LOINC, "34745-0", "Nurse Discharge summary"),
        "category": [{"text": "Night nursing handover (in the spirit of eOverdracht)"}],
        "subject": subject, "date": doc.h["generated_at"], "author": [{"reference": team_url}],
        "custodian": {"reference": org_url}, "title": f"Night handover {doc.h['night']}: {name}",
        "event": [{"period": {"start": doc.h["from"], "end": doc.h["to"]}}],
        "section": [
            section("Calls and triage", None, call_lines, gp_refs),
            section("Observations", _coding(LOINC, "8716-3", "Vital signs"), [], obs_refs),
            section("Nursing actions", None, action_lines, encounter_refs),
            section("Advice given", None, advice_lines, []),
            section("Follow-up tasks for the day team", None, [t["summary"] for t in entry["day_tasks"]], task_refs),
        ],
    }
    return doc.add("composition", c["id"], composition)


def build_bundle(handover: dict[str, Any]) -> dict[str, Any]:
    """The handover as a FHIR R4B document Bundle (JSON), validated; BundleInvalid when the models refuse it."""
    doc = _Doc(handover)
    org = handover["organisation"]
    org_url = doc.add("organisation", org["code"], {
        "resourceType": "Organization", "name": org["name"],
        "identifier": [{"system": "urn:nightcare:organisation", "value": org["code"]}]})
    team_url = doc.add("organisation", "night-team", {"resourceType": "Organization",
                                                      "name": "Regional night team"})
    client_refs = [(e, _client(doc, e, org_url, team_url)) for e in handover["clients"]]
    index = {
        "resourceType": "Composition", "status": "final" if handover["final"] else "preliminary",
        "type": _coding(LOINC, "34745-0", "Nurse Discharge summary"),
        "date": handover["generated_at"], "author": [{"reference": team_url}], "custodian": {"reference": org_url},
        "title": f"Night handover {handover['night']}: {org['name']}",
        "event": [{"period": {"start": handover["from"], "end": handover["to"]}}],
        "section": [{"title": f"{e['client']['given_name']} {e['client']['family_name']}",
                     "text": _narrative([(f"{len(e['calls'])} calls, {len(e['visits'])} visits, "
                                          f"{len(e['day_tasks'])} tasks")]),
                     "entry": [{"reference": ref}]} for e, ref in client_refs],
    }
    if not client_refs:
        index["section"] = [{"title": "Clients", "text": _narrative(["No calls or visits for this organisation."]),
                             "emptyReason": {"coding": [{
                                 "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                 "code": "nilknown"}]}}]
    index_url = _urn(*doc.key, "document")
    data = {
        "resourceType": "Bundle", "type": "document", "timestamp": handover["generated_at"],
        "identifier": {"system": "urn:ietf:rfc:3986", "value": _urn(*doc.key, "bundle", handover["generated_at"])},
        "entry": [{"fullUrl": index_url, "resource": index}, *doc.entries],
    }
    return validate(data)


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """Parse with the R4B models (types, cardinalities, required elements, value sets the models check), then
    the document rules the models leave out: the first entry is a Composition, full URLs are unique, and every
    urn:uuid reference resolves inside the Bundle. Returns the Bundle's JSON as the models write it."""
    try:
        bundle = Bundle.model_validate(data)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError (and the models' own): name it, never the data
        raise BundleInvalid(f"the handover Bundle does not validate as FHIR R4B: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:300]}") from None
    entries = bundle.entry or []
    first = entries[0].resource if entries else None
    if bundle.type != "document" or first is None or first.get_resource_type() != "Composition":
        raise BundleInvalid("a document Bundle starts with its Composition")
    urls = [e.fullUrl for e in entries]
    if len(set(urls)) != len(urls):
        raise BundleInvalid("full URLs in the Bundle are not unique")
    known = set(urls)
    dangling = {r for r in _references(data) if r.startswith("urn:uuid:") and r not in known}
    if dangling:
        raise BundleInvalid(f"{len(dangling)} references do not resolve inside the Bundle")
    return bundle.model_dump(mode="json", exclude_none=True)


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        for value in node.values():
            found += _references(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    return []
