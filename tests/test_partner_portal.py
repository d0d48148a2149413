"""The partner portal end to end in Debian's headless Chromium (Playwright), against the real service serving the
demo region at 06:30 at the end of a winter night: a partner logs in, reads the night's handover of her clients,
opens its printable (styled under the page's strict CSP, as is insight's protocol book), closes a day task the night
left, reads who looked at her clients' records (in plain words), lists and opens her clients, and reads and downloads
the month's cost-share statement (euros with thousands separators) — and nothing of another organisation shows.
Each view checked with axe-core; screenshots kept."""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.test_console import PASSWORD, _axe, chromium  # noqa: F401 - the browser fixture
from tests.test_live import Region
from tests.test_nurse_app import ARTIFACTS

pytestmark = pytest.mark.slow
MORNING = "2026-01-15T06:30:00+01:00"  # the night of 14 January is nearly over
AS_USUAL = ("yes", "yes", "no", "no")  # ABCD (protocol v2): awake, whole sentences, usual colour, alert


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    tmp = tmp_path_factory.mktemp("partner")
    region = Region(f"sqlite:///{tmp / 'nightcare.db'}", tmp, clock_start=MORNING)
    yield region
    region.stop()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"partner-{name}.png"), full_page=True)


def _client_of(region: Region, code: str) -> dict:
    coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
    orgs = httpx.get(f"{region.url}/api/organisations", headers=coordinator, timeout=30).json()
    org = next(o for o in orgs if o["code"] == code)
    listed = httpx.get(f"{region.url}/api/clients", params={"organisation_id": org["id"], "limit": 20},
                       headers=coordinator, timeout=30).json()
    for item in listed:  # one with no recorded risk that would raise a fall (the demo gives some a risk flag)
        client = httpx.get(f"{region.url}/api/clients/{item['id']}", params={"break_glass_reason": "test set-up"},
                           headers=coordinator, timeout=30).json()
        if not client.get("risks") and not client.get("wishes"):
            return client
    raise AssertionError(f"no client without risks among the first 20 of {code}")


def _fall_deferred_to_the_day_team(region: Region, client: dict, ref: str, text: str) -> int:
    """A fall at night: up again, no injury, walking as usual — her own team will look in the morning."""
    call = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": ref, "client_id": client["id"],
                                                       "text": text},
                      headers=region.op, timeout=30).json()
    r = httpx.post(f"{region.url}/api/calls/{call['id']}/triage", json={"complaint": "fall"}, headers=region.op,
                   timeout=30).json()
    answers = dict(zip(("abcd_awake", "abcd_sentence", "abcd_colour", "abcd_alert"), AS_USUAL, strict=True))
    answers.update(fall_bleed_heavy="no", fall_injury="no", fall_head="no", fall_floor="up", fall_wound="no",
                   fall_walk="yes")
    while r["step"]["type"] == "question":
        r = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/answers",
                       json={"node": r["step"]["node"], "answer": answers[r["step"]["node"]]}, headers=region.op,
                       timeout=30).json()
    decided = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/decision", json={}, headers=region.op,
                         timeout=30).json()
    assert decided["decision"]["disposition"] == "defer_to_day", decided
    return call["id"]


def _printable_is_styled(chromium, region: Region, token: str) -> None:  # noqa: F811 - the fixture
    """The printables, fetched with the login and opened as blob: pages under their opener's own (strict) content
    security policy, not bypassed: the handover's stylesheet applies (16 pt title, 1.5 cm margins), and a protocol
    book's from insight; nothing refused."""
    context = chromium.new_context()
    page = context.new_page()
    refused: list[str] = []
    context.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{region.url}/partner/")
    page.evaluate("(t) => localStorage.setItem('nc.partner.token', t)", token)
    page.reload()
    page.locator("#handover .person").first.wait_for(timeout=10000)
    with page.expect_popup() as popup:
        page.click("#print-handover")
    printable = popup.value
    printable.wait_for_load_state()
    assert printable.url.startswith("blob:")
    style = printable.evaluate("""() => ({ margin: getComputedStyle(document.body).marginLeft,
        title: getComputedStyle(document.querySelector('h1')).fontSize })""")
    assert style["margin"].startswith("56.6") and style["title"].startswith("21.3"), style
    # Insight's protocol book opens the same way: its serif stylesheet applies.
    page.goto(f"{region.url}/insight/")
    page.evaluate("(t) => localStorage.setItem('nc.insight.token', t)", region.token("coordinator"))
    page.reload()
    with page.expect_popup() as popup:
        page.locator("#protocols [data-book]").first.click(timeout=10000)
    book = popup.value
    book.wait_for_load_state()
    assert "Georgia" in book.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert refused == []
    context.close()


def test_a_partner_reads_the_handover_closes_a_task_reads_the_access_log_and_downloads_the_statement(
        region: Region, chromium) -> None:  # noqa: F811 - the fixture
    ours, theirs = _client_of(region, "de-brink"), _client_of(region, "drentsche-aa")
    _fall_deferred_to_the_day_team(region, ours, "portal-ours", "fell beside the bed, up again")
    _fall_deferred_to_the_day_team(region, theirs, "portal-theirs", "slipped in the bathroom, walking fine")

    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{region.url}/partner/")
    _axe(page, "the portal's login")
    page.fill("input[name=username]", "partner-de-brink")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")

    # The night's handover: her client, the call, what was asked and decided; not the other organisation's client.
    page.locator(f"#handover .person:has-text('{ours['family_name']}')").wait_for(timeout=10000)
    handover = page.inner_text("#handover")
    assert "fell beside the bed" in handover and "U4" in handover and "your day team" in handover
    assert "slipped in the bathroom" not in handover  # the other organisation's call
    partner = {"Authorization": f"Bearer {region.token('partner-de-brink')}"}
    seen = httpx.get(f"{region.url}/api/handover", params={"night": "2026-01-14"}, headers=partner, timeout=30).json()
    assert {c["client"]["id"] for h in seen["handovers"] for c in h["clients"]} & {theirs["id"]} == set()
    assert "not over yet" in handover  # 06:30: the night still runs until 07:00
    assert "1 call," in handover and "call(s)" not in handover
    # What the caller was told: the message, the steps as a numbered list, then when to call back.
    told = page.locator(f"#handover .person:has-text('{ours['family_name']}') .advice")
    assert told.locator("ol li").count() >= 2 and told.locator("p").count() == 2, told.inner_html()
    _axe(page, "the handover")
    _shot(page, "1-handover")
    _printable_is_styled(chromium, region, partner["Authorization"].removeprefix("Bearer "))

    # A day task the night left: picked up and closed.
    page.click("button[data-view=tasks]")
    task = page.locator("#tasks li", has_text=ours["family_name"]).first
    task.wait_for()
    _axe(page, "the day tasks")
    _shot(page, "2-day-tasks")
    task_id = task.get_attribute("data-task")
    task.locator("button[data-done]").click()
    page.locator(f"#tasks li[data-task='{task_id}']").wait_for(state="detached", timeout=5000)
    done = httpx.get(f"{region.url}/api/day-tasks", params={"state": "done"}, headers=partner, timeout=30).json()
    assert any(str(t["id"]) == task_id and t["done_by"] == "partner-de-brink" for t in done)

    # Who looked at her clients' records, and why: the operator who triaged the call.
    page.click("button[data-view=access]")
    page.locator("#access tr", has_text="operator").first.wait_for(timeout=5000)
    assert ours["family_name"] in page.inner_text("#access")
    assert theirs["id"] not in {e["client_id"] for e in httpx.get(f"{region.url}/api/audit", headers=partner,
                                                                   timeout=30).json()}
    # In plain words ("Identified as the client a call is about"), the service's own code in the title.
    what = page.locator("#access td[title]")
    assert what.count() >= 1
    for k in range(what.count()):
        text, raw = what.nth(k).inner_text(), what.nth(k).get_attribute("title") or ""
        assert raw and not re.search(r"[a-z]\.[a-z]|_", text), (text, raw)
    _axe(page, "the access log")
    _shot(page, "3-access-log")

    # Her client as the organisation keeps her: consent, a key safe present (never its code), and the summary
    # from the organisation's own record system (the demo's FHIR server) as the night team sees it.
    page.click("button[data-view=clients]")
    page.locator("#clients button[data-client]").first.wait_for(timeout=5000)  # listed before any search
    assert "search" in page.inner_text("#clients-hint")
    page.fill("#client-search input[name=q]", ours["family_name"])
    page.click("#client-search button")
    page.locator(f"#clients button[data-client='{ours['id']}']").click()
    page.locator("#client .record h3:has-text('Record (')").wait_for(timeout=10000)
    card = page.inner_text("#client")
    assert "Consent: night team" in card and "Key safe" in card, card
    assert page.locator("#client .record dt").count() >= 2  # what her record system holds (medication, care plan…)
    _axe(page, "a client")
    _shot(page, "4-client")

    # The month's cost share, and its statement as a PDF.
    page.click("button[data-view=costs]")
    page.locator("#statement table").wait_for(timeout=5000)
    statement = page.inner_text("#statement")
    assert "Thuiszorg De Brink" in statement and "€ " not in statement
    assert re.search(r"€\d{1,3}(,\d{3})+\.\d\d", statement), statement  # € 42,000.00, not € 42000.00
    _axe(page, "the cost share")
    _shot(page, "5-cost-share")
    with page.expect_download() as download:
        page.click("#statement-pdf")
    assert download.value.path().read_bytes()[:5] == b"%PDF-"

    # Another organisation's client is not hers to open.
    assert httpx.get(f"{region.url}/api/clients/{theirs['id']}", headers=partner, timeout=30).status_code == 404
    assert errors == []
    context.close()
