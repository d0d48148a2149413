"""Fictitious but valid FHIR R4 records for the demo clients, made deterministically from the client's number
(`DB-00042` → 42) and what the demo seed recorded about her (wishes, risks). Nothing here is a real person."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.clients.models import Client

LOCAL = "https://nightcare.example/demo/codes"
SNOMED = "http://snomed.info/sct"
FLAGS = {  # kind -> (system, code, text); 304253006 is SNOMED CT's "not for resuscitation"
    "dnr": (SNOMED, "304253006", "Not for resuscitation (do-not-resuscitate order on file)"),
    "infection": (LOCAL, "infection-risk", "Infection risk: MRSA carrier, use gloves and apron"),
    "aggression": (LOCAL, "aggression", "Aggression at night possible: announce yourself, never enter alone"),
}
PROBLEMS = {"anticoagulated": "Atrial fibrillation", "diabetes_insulin": "Diabetes mellitus type 2",
            "copd": "COPD (GOLD III)", "heart_failure": "Heart failure", "dementia": "Dementia (Alzheimer type)",
            "palliative": "Metastatic colon cancer, palliative phase", "chemotherapy": "Breast cancer, on chemotherapy"}
MEDICATION = {"anticoagulated": ("Apixaban 5 mg", "1 tablet twice daily"),
              "diabetes_insulin": ("Insulin glargine 100 U/ml", "18 units at 22:00"),
              "copd": ("Tiotropium 2.5 µg inhaler", "2 puffs in the morning"),
              "heart_failure": ("Furosemide 40 mg", "1 tablet in the morning"),
              "dementia": ("Rivastigmine 9.5 mg/24 h patch", "new patch daily"),
              "palliative": ("Morphine s.c. pump", "10 mg/24 h, extra 2.5 mg as needed (max 6/day)")}
RELATIONS = (("daughter", "DAU"), ("son", "SON"), ("husband", "HUSB"), ("wife", "WIFE"), ("neighbour", "NBOR"))
RELATED_GIVEN = ("Anja", "Bert", "Carla", "Dirk", "Els", "Frank", "Greet", "Henk")


def number(value: str) -> int:
    return int(value.rsplit("-", 1)[-1])


def _concept(text: str, system: str = LOCAL, code: str | None = None) -> dict:
    return {"coding": [{"system": system, "code": code or text.lower().replace(" ", "-")[:60], "display": text}],
            "text": text}


def records(client: Client, value: str, identifier_system: str, *, now: datetime) -> list[dict]:
    """Patient first, then her Flags, Conditions, MedicationStatements, AllergyIntolerances, CarePlan,
    RelatedPerson and recent Observations, as FHIR JSON."""
    n = number(value)
    pid = value
    subject = {"reference": f"Patient/{pid}"}
    out: list[dict] = [{
        "resourceType": "Patient", "id": pid, "identifier": [{"system": identifier_system, "value": value}],
        "name": [{"family": client.family_name, "given": [client.given_name]}],
        **({"birthDate": client.date_of_birth.isoformat()} if client.date_of_birth else {}),
    }]
    flags = (["dnr"] if "do_not_resuscitate" in client.wishes else []) + \
        (["infection"] if n % 6 == 1 else []) + (["aggression"] if n % 10 == 3 else [])
    for kind in flags:
        system, code, text = FLAGS[kind]
        out.append({"resourceType": "Flag", "id": f"{pid}-flag-{kind}", "status": "active",
                    "code": _concept(text, system, code), "subject": subject})
    problems = [PROBLEMS[r] for r in client.risks if r in PROBLEMS] + \
        (["Hypertension"] if n % 2 == 0 else []) + (["Osteoarthritis of the right hip"] if n % 3 == 0 else [])
    for i, text in enumerate(problems):
        out.append({"resourceType": "Condition", "id": f"{pid}-cond-{i}", "subject": subject, "code": _concept(text),
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                             "condition-clinical", "code": "active"}]}})
    meds = [MEDICATION[r] for r in client.risks if r in MEDICATION] + [("Paracetamol 1 g", "as needed, max 3 a day")]
    for i, (drug, dose) in enumerate(meds):
        out.append({"resourceType": "MedicationStatement", "id": f"{pid}-med-{i}", "status": "active",
                    "subject": subject, "medicationCodeableConcept": _concept(drug), "dosage": [{"text": dose}]})
    allergies = (["Penicillin"] if n % 4 == 0 else []) + (["Adhesive plasters"] if n % 6 == 5 else [])
    for i, text in enumerate(allergies):
        out.append({"resourceType": "AllergyIntolerance", "id": f"{pid}-allergy-{i}", "patient": subject,
                    "code": _concept(text), "criticality": "high" if text == "Penicillin" else "low",
                    "reaction": [{"manifestation": [_concept("Rash" if text == "Penicillin" else "Skin irritation")]}]})
    notes = ["Turn every 3 hours at night; pressure areas heels and sacrum." if n % 2 else
             "Walks with a rollator; bed rails up at night at her own wish."]
    if "diabetes_insulin" in client.risks:
        notes.append("Glucose below 4 mmol/l: give 200 ml orange juice, recheck after 15 minutes.")
    if "palliative" in client.risks:
        notes.append("Comfort care only; family wishes to be called at any hour.")
    out.append({"resourceType": "CarePlan", "id": f"{pid}-careplan", "status": "active", "intent": "plan",
                "subject": subject, "title": "Night care plan", "description": notes[0],
                "note": [{"text": t} for t in notes[1:]]})
    relation, code = RELATIONS[n % len(RELATIONS)]
    out.append({"resourceType": "RelatedPerson", "id": f"{pid}-contact", "patient": subject, "active": True,
                "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                              "code": code, "display": relation}], "text": relation}],
                "name": [{"given": [RELATED_GIVEN[n % len(RELATED_GIVEN)]], "family": client.family_name}],
                "telecom": [{"system": "phone", "value": f"+316{55000000 + n * 37:08d}"}]})
    taken = (now - timedelta(hours=20 + n % 30)).astimezone(UTC).replace(microsecond=0)
    out.append({"resourceType": "Observation", "id": f"{pid}-obs-weight", "status": "final", "subject": subject,
                "code": _concept("Body weight", "http://loinc.org", "29463-7"), "effectiveDateTime": taken.isoformat(),
                "valueQuantity": {"value": 55 + n % 40, "unit": "kg", "system": "http://unitsofmeasure.org",
                                  "code": "kg"}})
    if "diabetes_insulin" in client.risks:
        out.append({"resourceType": "Observation", "id": f"{pid}-obs-glucose", "status": "final",
                    "subject": subject, "code": _concept("Glucose", "http://loinc.org", "2339-0"),
                    "effectiveDateTime": taken.isoformat(),
                    "valueQuantity": {"value": round(5 + (n % 70) / 10, 1), "unit": "mmol/l",
                                      "system": "http://unitsofmeasure.org", "code": "mmol/L"}})
    return out


def subject_of(resource: dict) -> str | None:
    ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
    return ref.split("/", 1)[1] if ref.startswith("Patient/") else None
