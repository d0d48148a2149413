"""Client summaries from the demo record systems, over real HTTP: one `nightcare serve` for the module, serving
both the API and /demo-fhir/<org>/ (two organisations offer $summary, two only searches; one signs in with OAuth2
client credentials). Demo client n belongs to organisation (n-1) % 4: 1 de-brink, 2 drentsche-aa, 3 midden-drenthe,
4 vaart-en-wijk."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dispatch.devtools.server import ServerProcess, nightcare, service_env

SECRET = "demo-fhir-Zq8r2XkP-never-in-a-log"
TIMEOUT_S = 1.0


class Service:
    def __init__(self, tmp: Path) -> None:
        self.env = service_env(f"sqlite:///{tmp / 'nightcare.db'}", NIGHTCARE_DEMO_FHIR_SECRET=SECRET,
                               NIGHTCARE_RECORD_TIMEOUT_S=str(TIMEOUT_S))
        nightcare("db", "upgrade", env=self.env)
        nightcare("seed", env=self.env)
        self.log = tmp / "server.log"
        self.server = ServerProcess(self.env, self.log)
        self.server.start()
        self.url = self.server.url
        self._tokens: dict[str, str] = {}

    def h(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = httpx.post(f"{self.url}/api/auth/token", data={"username": username, "password": "nightcare-demo"},
                           timeout=30)
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def get(self, path: str, who: str = "operator", **params) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers=self.h(who), timeout=30)

    def post(self, path: str, body: dict, who: str = "operator") -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=self.h(who), timeout=30)

    def call_for(self, client_id: int) -> int:
        r = self.post("/api/calls", {"source": "alarm", "source_ref": f"records-{client_id}", "client_id": client_id})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def behave(self, org: str, **behaviour) -> None:
        r = httpx.put(f"{self.url}/demo-fhir/{org}/_behaviour", json=behaviour,
                      headers={"Authorization": f"Bearer {SECRET}"}, timeout=30)
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service(tmp_path_factory.mktemp("records"))
    try:
        yield svc
    finally:
        svc.server.stop()


def _consenting(service: Service, numbers: range) -> int:
    for n in numbers:
        if service.get(f"/api/clients/{n}", "coordinator").json().get("restricted") is not True:
            return n
    raise AssertionError("no consenting client")


def test_a_summary_is_fetched_for_a_call_shown_alerts_first_and_audited(service: Service) -> None:
    # Client 7 (midden-drenthe, $summary): a do-not-resuscitate wish in the seed, and an infection-risk flag.
    call_id = service.call_for(7)
    r = service.get("/api/clients/7/summary", call_id=call_id)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["available"] is True and s["cached"] is False and s["source"] == "Wijkzorg Midden-Drenthe"
    assert [a["kind"] for a in s["alerts"]] == ["do_not_resuscitate", "infection_risk"]
    assert s["medication"] and s["care_plan"] and s["contacts"][0]["phone"].startswith("+316")
    again = service.get("/api/clients/7/summary", call_id=call_id).json()
    assert again["cached"] is True and again["alerts"] == s["alerts"]  # kept for the night, not fetched again
    audit = service.get("/api/audit", "coordinator", client_id=7).json()
    reads = [e for e in audit if e["data"] == "client.summary"]
    assert len(reads) == 2 and all(e["reason"] == f"call {call_id}" and e["username"] == "operator" for e in reads)


def test_searches_and_oauth2_client_credentials_when_the_server_has_no_summary_operation(service: Service) -> None:
    # Client 2 (drentsche-aa): no $summary, OAuth2; the partner reads her own client without a call.
    s = service.get("/api/clients/2/summary", "partner-drentsche-aa").json()
    assert s["available"] is True and s["source"] == "Zorggroep Drentsche Aa"
    assert "Hypertension" in s["problems"] and s["observations"]


def test_another_organisations_partner_gets_404_and_night_staff_need_a_reason(service: Service) -> None:
    assert service.get("/api/clients/2/summary", "partner-de-brink").status_code == 404
    assert service.get("/api/clients/2/summary", "operator").status_code == 403
    assert service.get("/api/clients/6/summary", "operator",
                       break_glass_reason="client calls the GP post, records needed").json()["available"] is True


def test_a_slow_source_never_holds_up_triage(service: Service) -> None:
    client = _consenting(service, range(8, 300, 4))  # vaart-en-wijk
    other = _consenting(service, range(5, 300, 4))
    service.behave("vaart-en-wijk", delay_s=3 * TIMEOUT_S)
    try:
        call_id, other_call = service.call_for(client), service.call_for(other)
        result: dict = {}

        def fetch() -> None:
            result["summary"] = service.get(f"/api/clients/{client}/summary", call_id=call_id)
            result["done"] = time.monotonic()

        started = time.monotonic()
        waiting = threading.Thread(target=fetch)
        waiting.start()
        time.sleep(0.2)  # the summary request is waiting on the record system now
        r = service.post(f"/api/calls/{other_call}/triage", {"complaint": "fall"})
        assert r.status_code == 201, r.text
        answered = service.post(f"/api/calls/{other_call}/triage/answers",
                                {"node": r.json()["step"]["node"], "answer": "yes"})
        assert answered.status_code == 200, answered.text
        triaged = time.monotonic()
        waiting.join(timeout=30)
        assert triaged < result["done"]  # triage went on while the source was asked
        s = result["summary"].json()
        assert result["summary"].status_code == 200 and s["available"] is False
        assert "Zorgcoöperatie Vaart & Wijk is unreachable" in s["reason"]
        assert s["night_team"]["access_notes"] is not None
        assert result["done"] - started < 3 * TIMEOUT_S  # the deadline, not the source's delay
    finally:
        service.behave("vaart-en-wijk", delay_s=0)


def test_a_failing_source_answers_unreachable_and_is_audited(service: Service) -> None:
    client = _consenting(service, range(10, 300, 4))  # drentsche-aa
    service.behave("drentsche-aa", fail=True)
    try:
        s = service.get(f"/api/clients/{client}/summary", "partner-drentsche-aa")
        assert s.status_code == 200 and s.json()["available"] is False
        assert s.json()["reason"].endswith("is unreachable (it answered 503)")
    finally:
        service.behave("drentsche-aa", fail=False)
    audit = service.get("/api/audit", "coordinator", client_id=client).json()
    assert any(e["data"] == "client.summary" and "source unavailable" in e["reason"] for e in audit)
    assert service.get(f"/api/clients/{client}/summary", "partner-drentsche-aa").json()["available"] is True


def test_an_invalid_resource_is_refused_by_the_fhir_library(service: Service) -> None:
    client = _consenting(service, range(9, 300, 4))  # de-brink ($summary)
    service.behave("de-brink", invalid=True)
    try:
        s = service.get(f"/api/clients/{client}/summary", "partner-de-brink").json()
    finally:
        service.behave("de-brink", invalid=False)
    assert s["available"] is False and "sent an invalid FHIR resource" in s["reason"]


def test_the_nurse_reads_the_summary_of_her_own_job_only(service: Service) -> None:
    visits = service.get("/api/visits", limit=1000).json()
    visit = next(v for v in visits if v["kind"] == "planned" and v["state"] == "open" and not v["skills"]
                 and service.get(f"/api/clients/{v['client_id']}", "coordinator").json().get("restricted") is not True)
    nurse1 = service.get("/api/nurses", "nurse1").json()[0]["id"]
    assert service.post(f"/api/visits/{visit['id']}/assign", {"nurse_id": nurse1}).status_code == 200
    mine = service.get(f"/api/clients/{visit['client_id']}/summary", "nurse1", visit_id=visit["id"])
    assert mine.status_code == 200 and mine.json()["available"] is True, mine.text
    assert service.get(f"/api/clients/{visit['client_id']}/summary", "nurse2", visit_id=visit["id"]).status_code == 403
    audit = service.get("/api/audit", "coordinator", client_id=visit["client_id"]).json()
    assert any(e["username"] == "nurse1" and e["reason"] == f"job {visit['id']}" for e in audit)


def test_no_credential_in_any_log_line(service: Service) -> None:
    # Last in the module: every fetch above (bearer tokens, the OAuth2 secret and its access tokens) is in the log.
    service.get("/api/clients/1/summary", "coordinator")
    text = service.log.read_text()
    assert "/demo-fhir/" in text and "/summary" in text  # the log is the one that saw the fetches
    assert SECRET not in text and "Bearer" not in text and "client_secret" not in text
