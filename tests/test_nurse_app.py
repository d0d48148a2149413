"""The nurse phone app end to end in headless Chromium (Debian's, driven by Playwright) at a phone's size:
log in, start the shift with the bag check, a job arrives live, accept, reveal the key-safe code, complete; jobs
arriving meanwhile leave the code and a half-typed form on her screen. A second nurse is refused the code.

What the app shows depends on the hour (is she on shift? is the bag check due?), so the service runs on a clock
started at four hours of a winter night and day (NIGHTCARE_CLOCK_START): the test passes whatever the wall clock
says. Screenshots are kept in test-artifacts/ (CI keeps them)."""
from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from dispatch.clients.models import Client
from dispatch.db import make_engine
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.settings import Settings
from dispatch.visits.models import Visit
from tests.test_live import Region

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def browser(tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2,
            # A phone set to another zone and a 12-hour locale: the app shows the region's 24-hour times anyway.
            timezone_id="America/New_York", locale="en-US")
        yield context
        context.close()


AXE = Path(__file__).resolve().parent.parent / "web" / "node_modules" / "axe-core" / "axe.min.js"


def _axe(page, selector: str) -> None:
    """axe-core (from the npm registry) on a part of the page as it is now: no serious or critical violation.
    Evaluated over the devtools protocol, so the page's CSP (script-src 'self') does not stand in the way."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it (web/package.json)")
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("""async (sel) => (await axe.run({include: [sel]}, {resultTypes: ["violations"]}))
        .violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3)}))""", selector)
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{selector}: {json.dumps(bad, indent=1)}"


def _shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"nurse-app-{name}.png"), full_page=full_page)


REGION = ZoneInfo("Europe/Amsterdam")
# (local time, on shift or within the bag-check lead of the seeded 23:00 shift?)
HOURS = [("02:00", True), ("07:30", False), ("13:00", False), ("22:59", True)]


def _at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 1, 14, hour, minute, tzinfo=REGION)


@pytest.mark.parametrize(("hhmm", "on_shift"), HOURS, ids=[h for h, _ in HOURS])
def test_nurse_accepts_reveals_the_code_and_completes(tmp_path: Path, browser, hhmm: str,
                                                      on_shift: bool) -> None:
    url = f"sqlite:///{tmp_path / 'nightcare.db'}"
    now, tag = _at(hhmm), hhmm.replace(":", "")
    region = Region(url, tmp_path, clock_start=now.isoformat())
    try:
        page = browser.new_page()
        page.on("dialog", lambda d: d.accept())
        page.goto(f"{region.url}/nurse/")
        page.fill("input[name=username]", "nurse1")
        page.fill("input[name=password]", "nightcare-demo")
        page.click("#login-form button")
        if not on_shift:
            # Off duty: her jobs page says when tonight's shift is; no bag check yet.
            page.wait_for_selector("#jobs:not([hidden])")
            assert "Next shift today 23:00" in page.inner_text("#shift")
            assert page.is_hidden("#bag")
            _shot(page, f"0-off-duty-{tag}")
            # The coordinator calls her in for a shift starting now: the app asks for the bag check.
            coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
            r = httpx.post(f"{region.url}/api/shifts", headers=coordinator, timeout=30, json={
                "nurse_id": region.nurse_ids["nurse1"], "starts_at": (now - timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(hours=8)).isoformat()})
            assert r.status_code == 201, r.text
            page.reload()
        page.wait_for_selector("#bag:not([hidden])")
        page.wait_for_selector(".bag-row")
        assert re.fullmatch(r"{0}–{0}".format(r"([01]\d|2[0-3]):[0-5]\d"), page.inner_text("#bag-shift"))  # 24-hour
        # One thermometer with its calibration overdue: the check flags it, the shift still starts.
        page.get_by_label("Thermometer: calibration due date").fill("2020-01-01")
        _shot(page, f"1-bag-check-{tag}")
        page.click("#bag-form button[type=submit]")
        # The flag is in front of her (not below the button, off-screen) until she goes on herself.
        flags = page.get_by_role("alert").filter(has_text="out of calibration")
        flags.wait_for()
        assert "Thermometer: out of calibration (calibration was due on 1 Jan 2020)" in flags.inner_text()
        shown = flags.bounding_box()
        assert shown["y"] >= 0 and shown["y"] + shown["height"] <= page.viewport_size["height"]
        assert page.is_hidden("#jobs")
        _shot(page, f"1b-bag-flags-{tag}", full_page=False)
        page.get_by_role("button", name="Continue to my jobs").click()
        page.wait_for_selector("#jobs:not([hidden])")
        page.wait_for_selector("#line:not(.off)")
        assert "On shift until" in page.inner_text("#shift") or "Next shift today 23:00" in page.inner_text("#shift")

        visit_id = region.planned_visits()[0]
        region.assign(visit_id, "nurse1")  # the operator's hand; the phone learns it over the socket
        card = page.locator(f"li.job[data-visit='{visit_id}']")
        card.wait_for(timeout=5000)
        _shot(page, f"2-job-arrived-{tag}")
        card.locator("[data-act=accept]").click()
        card.locator(".state", has_text="accepted").wait_for()
        card.locator("[data-act=keysafe]").click()
        code_box = card.locator(".code")
        code_box.wait_for()
        engine = make_engine(url, pool_size=1)
        with Session(engine) as s:
            visit = s.get(Visit, visit_id)
            client = s.exec(select(Client).where(Client.id == visit.client_id)).one()
            expected = KeysafeCipher(Settings(environment="test")).decrypt(client.keysafe_code_encrypted) \
                if client.keysafe_code_encrypted else None
        engine.dispose()
        if expected is not None:
            assert code_box.inner_text() == expected
        _shot(page, f"3-code-revealed-{tag}")
        # Another job arrives while she reads the code: the list updates, the code stays on her screen.
        others = [v for v in region.planned_visits() if v != visit_id]
        shown = code_box.inner_text()
        region.assign(others[0], "nurse1")
        page.locator(f"li.job[data-visit='{others[0]}']").wait_for(timeout=5000)
        assert code_box.is_visible() and code_box.inner_text() == shown

        # A second nurse, in her own browser page, is refused the code.
        token2 = httpx.post(f"{region.url}/api/auth/token", data={"username": "nurse2", "password": "nightcare-demo"}
                            ).json()["access_token"]
        page2 = browser.new_page()
        page2.goto(f"{region.url}/nurse/manifest.webmanifest")
        refused = page2.evaluate("""async ([id, token]) => {
            const r = await fetch(`/api/visits/${id}/keysafe`,
                                  {method: "POST", headers: {Authorization: "Bearer " + token}});
            return [r.status, await r.text()]; }""", [visit_id, token2])
        assert refused[0] == 404 and (expected is None or expected not in refused[1])
        page2.close()

        # No signal on the way: "en route" is queued on the phone and sent when the connection returns.
        browser.set_offline(True)
        card.locator("[data-act=en_route]").click()
        card.locator(".state", has_text="en route").wait_for()
        page.wait_for_selector("#queued:not([hidden])")
        assert "1 waiting" in page.inner_text("#queued")
        assert httpx.get(f"{region.url}/api/visits/{visit_id}", headers=region.op).json()["state"] == "accepted"
        _shot(page, f"4-offline-queued-{tag}")
        browser.set_offline(False)
        page.wait_for_selector("#queued[hidden]", state="attached")
        assert httpx.get(f"{region.url}/api/visits/{visit_id}", headers=region.op).json()["state"] == "en_route"
        card.locator("[data-act=on_scene]").click()
        card.locator(".state", has_text="on scene").wait_for()
        card.locator("[data-act=complete]").click()
        card.locator("textarea[name=note]").fill("Turned, comfortable, sleeping again.")
        first_material = card.locator(".materials .stepper").first
        for _ in range(3):
            first_material.locator(".step-up").click()
        first_material.locator(".step-down").click()
        # A job update arriving while she types (any re-plan) leaves her note and her counts as she typed them.
        region.assign(others[1], "nurse1")
        page.locator(f"li.job[data-visit='{others[1]}']").wait_for(timeout=5000)
        assert card.locator("textarea[name=note]").input_value() == "Turned, comfortable, sleeping again."
        assert first_material.locator("output").inner_text() == "2"
        _shot(page, f"5-complete-form-{tag}")
        address = card.locator(".address").inner_text()
        card.locator(".complete-form button[type=submit]").click()
        card.wait_for(state="detached")
        # The card is gone; a confirmation says what happened and when, until she dismisses it.
        confirmation = page.get_by_role("status").filter(has_text="completed at")
        said = re.search(r"Visit at (.+) completed at (\d\d:\d\d) — handover note sent", confirmation.inner_text())
        assert said and said[1] == address, confirmation.inner_text()
        _shot(page, f"6-done-{tag}", full_page=False)
        op = region.op
        done = httpx.get(f"{region.url}/api/visits/{visit_id}", headers=op).json()
        assert done["state"] == "completed"
        at = datetime.fromisoformat(done["completed_at"]).astimezone(REGION)
        assert said[2] in {f"{at + timedelta(minutes=m):%H:%M}" for m in (-1, 0, 1)}  # the region's time
        confirmation.get_by_role("button", name="Dismiss").click()
        page.locator(".done-item").wait_for(state="detached")
        restock = httpx.get(f"{region.url}/api/nightbag/restock", headers=op).json()["items"]
        assert any(line["used"] == 2 for line in restock)
        assert any(p["problem"] == "out of calibration" for line in restock for p in line["problems"])
    finally:
        region.stop()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory):
    """One demo region at 01:30, shared by the tests below (each with a nurse of its own)."""
    tmp = tmp_path_factory.mktemp("night")
    region = Region(f"sqlite:///{tmp / 'nightcare.db'}", tmp, clock_start=_at("01:30").isoformat())
    yield region
    region.stop()


def test_nothing_she_records_is_lost(night: Region, browser) -> None:
    """Vital signs in part are not scored or dropped: she is told which are missing and keeps what she typed. An
    action queued offline that the service refuses when it arrives (the job was cancelled meanwhile) is shown to
    her with the reason, and her handover note stays readable."""
    region = night
    page = browser.new_page()
    page.goto(f"{region.url}/nurse/")
    page.fill("input[name=username]", "nurse1")
    page.fill("input[name=password]", "nightcare-demo")
    page.click("#login-form button")
    page.wait_for_selector("#bag:not([hidden]) .bag-row")
    page.click("#bag-form button[type=submit]")
    _axe(page, "#bag")  # the demo's devices: calibration unknown
    page.get_by_role("button", name="Continue to my jobs").click()
    page.wait_for_selector("#jobs:not([hidden])")
    page.wait_for_selector("#line:not(.off)")
    visit_id = region.planned_visits()[0]
    region.assign(visit_id, "nurse1")
    card = page.locator(f"li.job[data-visit='{visit_id}']")
    card.locator("[data-act=accept]").click()
    card.locator(".state", has_text="accepted").wait_for()
    card.locator("[data-act=on_scene]").click()
    card.locator(".state", has_text="on scene").wait_for()
    card.locator("[data-act=complete]").click()
    note = "Fell again reaching for the light; bruise on the left forearm. Daughter informed."
    card.locator("textarea[name=note]").fill(note)
    card.locator("[data-act=observations]").click()
    card.locator("input[name=respiration_rate]").fill("18")
    card.locator("input[name=spo2]").fill("95")
    card.locator("input[name=pulse]").fill("88")
    card.locator(".obs-form button[type=submit]").click()
    error = card.locator(".error")
    error.wait_for()
    page.wait_for_function(f"document.querySelector(`li.job[data-visit='{visit_id}'] .error`).textContent.length > 0")
    assert "systolic blood pressure" in error.inner_text() and "temperature" in error.inner_text()
    assert card.locator("textarea[name=note]").input_value() == note  # nothing she typed is gone
    assert httpx.get(f"{region.url}/api/visits/{visit_id}", headers=region.op).json()["state"] == "on_scene"
    _shot(page, "7-vitals-incomplete")

    assert card.locator("input[name=pulse]").input_value() == "88"
    browser.set_offline(True)
    card.locator(".complete-form button[type=submit]").click()
    page.wait_for_selector("#queued:not([hidden])")
    # Meanwhile the operators cancel the visit (the client was taken to hospital by her son).
    r = httpx.post(f"{region.url}/api/visits/{visit_id}/cancel", json={"reason": "son took her to hospital"},
                   headers=region.op)
    assert r.status_code == 200
    browser.set_offline(False)
    refused = page.locator("#refused")
    refused.wait_for(timeout=15000)
    assert "Complete" in refused.inner_text() and "cancelled" in refused.inner_text()
    assert note in refused.inner_text()
    _shot(page, "8-refused-kept")
    refused.locator("[data-dismiss]").first.click()
    page.wait_for_selector("#refused", state="hidden")


def _wait(predicate, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached in {timeout} s: {what}")


CALL_TEXT = "Daughter calls: mother fell in the bathroom, on the floor, bleeding a bit from her arm."

# Any element of a card wider than the card, or list numbers hanging out of it to the left (the numbers of an
# <ol> are not elements: measured as a text of the same font in the list item).
OVERFLOW = """(card) => {
  const box = card.getBoundingClientRect(), out = [];
  for (const el of card.querySelectorAll("*")) {
    if (!el.getClientRects().length) continue;  // not shown
    const r = el.getBoundingClientRect();
    if (r.right > box.right + 0.5 || r.left < box.left - 0.5 || el.scrollWidth > el.clientWidth + 1 && el.clientWidth)
      out.push(el.tagName + "." + el.className + ": " + el.textContent.slice(0, 40));
  }
  for (const ol of card.querySelectorAll("ol")) {
    const li = ol.lastElementChild, probe = document.createElement("span");
    probe.textContent = `${ol.children.length}. `; probe.style.whiteSpace = "pre"; li.prepend(probe);
    const marker = probe.getBoundingClientRect().width; probe.remove();
    if (li.getBoundingClientRect().left - marker < box.left) out.push("the numbers of " + ol.parentElement.className);
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) out.push("the page scrolls sideways");
  return out;
}"""


def _call_for_a_client_with_a_wish(region: Region) -> tuple[int, int]:
    """A call from a demo client with a do-not-resuscitate wish, triaged (a fall, on the floor): its visit."""
    coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
    client = next(c for c in (httpx.get(f"{region.url}/api/clients/{i}", headers=coordinator, timeout=30).json()
                              for i in range(7, 400, 7))
                  if "do_not_resuscitate" in c.get("wishes", []) and c["consent_night_team"] and c["phones"])
    call = httpx.post(f"{region.url}/api/calls", headers=region.op, timeout=30, json={
        "source": "phone", "source_ref": "nurse-app-brief", "caller_phone": client["phones"][0],
        "text": CALL_TEXT}).json()
    assert call["client_id"] == client["id"], call
    step = httpx.post(f"{region.url}/api/calls/{call['id']}/triage", json={"complaint": "fall"}, headers=region.op,
                      timeout=30).json()
    while step["step"]["type"] == "question":  # breathing, awake, no bleeding; then "no" to every question
        offered = [a["id"] for a in step["step"]["answers"]]
        answer = "yes" if step["step"]["abcd"] and "yes" in offered else "no" if "no" in offered else offered[-1]
        step = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/answers", headers=region.op, timeout=30,
                          json={"node": step["step"]["node"], "answer": answer}).json()
        assert "step" in step, step
    decided = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/decision", json={}, headers=region.op,
                         timeout=30).json()["decision"]
    return decided["visit"]["id"], call["id"]


def test_a_night_nurse_finds_what_she_needs_on_her_phone(night: Region, browser) -> None:
    """Another login is refused with a message; her name, shift end and logout in the header; the bag check
    fills in the dates it remembers and counts on steppers; her position shared with her consent; the client's
    wish and the caller's answers and advice on the job card; NEWS2 with a big "Call 112" at high risk, kept on
    the card; a no-connection banner with what is waiting, gone by itself when the connection returns."""
    region, url = night, night.url
    coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
    items = httpx.get(f"{url}/api/nightbag/items", headers=coordinator, timeout=30).json()
    for device in (i for i in items if i["kind"] == "device"):  # the calibration round, recorded once
        r = httpx.patch(f"{url}/api/nightbag/items/{device['id']}", json={"calibration_due": "2026-09-30"},
                        headers=coordinator, timeout=30)
        assert r.status_code == 200, r.text
    browser.grant_permissions(["geolocation"], origin=url)
    browser.set_geolocation({"latitude": 52.8610, "longitude": 6.5190})  # Beilen
    page = browser.new_page()
    page.goto(f"{url}/nurse/")

    # An operator's login is refused with a message; nothing of the nurse app opens.
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "nightcare-demo")
    page.click("#login-form button")
    page.wait_for_selector("#login-error:has-text('not a night nurse')")
    assert page.is_hidden("#who") and page.is_hidden("#jobs") and page.is_hidden("#bag")
    _shot(page, "9-not-a-nurse")

    page.fill("input[name=username]", "nurse2")
    page.fill("input[name=password]", "nightcare-demo")
    page.click("#login-form button")
    page.wait_for_selector("#bag:not([hidden]) .bag-row")
    row = page.locator(".bag-row", has_text="Thermometer")
    assert row.locator("input[data-f=calibration_due]").input_value() == "2026-09-30"  # remembered, not retyped
    counter = row.get_by_role("group", name=re.compile("Thermometer"))  # a stepper, with accessible names
    assert counter.locator("output").inner_text() == "1"
    counter.get_by_role("button", name="One fewer: Thermometer (of 1)").click()
    assert counter.locator("output").inner_text() == "0"
    counter.get_by_role("button", name="One more: Thermometer (of 1)").click()
    assert counter.locator("output").inner_text() == "1"
    _shot(page, "10-bag-remembers")
    page.click("#bag-form button[type=submit]")
    page.wait_for_selector("#jobs:not([hidden])")
    assert "Bag complete" in page.text_content("#bag-result")  # nothing "calibration unknown"
    header = page.inner_text("header")
    shifts = httpx.get(f"{url}/api/shifts", headers={"Authorization": f"Bearer {region.token('nurse2')}"},
                       timeout=30).json()
    ends = max(datetime.fromisoformat(sh["ends_at"]) for sh in shifts if sh["state"] == "started")
    assert f"On shift until {ends.astimezone(REGION):%H:%M}" in header and "Log out" in header
    name = httpx.get(f"{url}/api/nurses", headers=region.op, timeout=30).json()
    me = next(n for n in name if n["id"] == region.nurse_ids["nurse2"])
    assert me["name"] in header

    # Her position, once she agrees: reported, and again when she has moved.
    page.wait_for_selector("#position-consent:not([hidden])")
    assert "centre of Assen" in page.inner_text("#position-consent")
    _shot(page, "11-position-consent")
    page.click("#position-yes")

    def position() -> tuple[float, float] | None:
        nurses = httpx.get(f"{url}/api/nurses", headers=region.op, timeout=30).json()
        n = next(n for n in nurses if n["id"] == region.nurse_ids["nurse2"])
        return None if n["lat"] is None else (round(n["lat"], 3), round(n["lon"], 3))

    _wait(lambda: position() == (52.861, 6.519), "her first position on the server")
    browser.set_geolocation({"latitude": 52.8700, "longitude": 6.5300})  # over a kilometre further
    _wait(lambda: position() == (52.870, 6.530), "her new position on the server")
    page.reload()  # asked once: the choice is remembered
    page.wait_for_selector("#jobs:not([hidden])")
    assert page.is_hidden("#position-consent") and page.is_checked("#position-toggle")
    page.uncheck("#position-toggle")  # she can switch it off (and on again)
    page.wait_for_selector("#position-status:has-text('Position not shared')")
    page.check("#position-toggle")
    page.wait_for_selector("#position-status:has-text('Sharing your position')")

    # A call's job: her wish first, then what the caller said and what the caller was told.
    visit_id, call_id = _call_for_a_client_with_a_wish(region)
    region.assign(visit_id, "nurse2")
    card = page.locator(f"li.job[data-visit='{visit_id}']")
    card.locator(".alerts li.wish", has_text="Do not resuscitate").wait_for(timeout=10000)
    card.locator(".brief .said dt").first.wait_for()
    # First what the operator wrote down about the call, then the triage answers.
    assert CALL_TEXT in card.locator(".brief .said > :not(summary)").first.inner_text()
    answered = httpx.get(f"{url}/api/calls/{call_id}/triage", headers=region.op, timeout=30).json()["answers"]
    assert card.locator(".brief .said dt").count() == len(answered) > 0
    assert card.locator(".brief .said dt").first.inner_text() == answered[0]["question"]
    assert "told" in card.locator(".brief .told summary").inner_text()
    assert card.locator(".brief .told p").first.inner_text()
    alerts_box = card.locator(".alerts").bounding_box()
    assert alerts_box["y"] < card.locator(".address").bounding_box()["y"]  # at the top of the card
    head = card.locator(".job-head").inner_text()
    urgency = httpx.get(f"{url}/api/visits/{visit_id}", headers=region.op, timeout=30).json()["urgency"]
    assert re.findall(r"\bU\d\b", head) == [urgency] and "Fall" in head, head  # the urgency once
    assert card.evaluate(OVERFLOW) == []  # at 390 px nothing of the card sticks out, the advice's steps neither
    _shot(page, "12-job-brief")

    # Declining asks for the reason in the page: one of the usual ones or her own words; she can keep the job.
    other = next(v for v in region.planned_visits() if v != visit_id)
    region.assign(other, "nurse2")
    job = page.locator(f"li.job[data-visit='{other}']")
    job.locator("[data-act=decline]").click()
    dialog = page.get_by_role("dialog", name="Decline this job?")
    dialog.get_by_role("button", name="Keep the job").click()
    dialog.wait_for(state="hidden")
    job.locator("[data-act=decline]").click()
    dialog.get_by_role("button", name="Too far away").click()
    assert dialog.get_by_role("textbox", name="Reason").input_value() == "Too far away"
    _axe(page, "#decline-dialog")
    _shot(page, "15-decline", full_page=False)
    dialog.get_by_role("button", name="Decline job").click()
    job.wait_for(state="detached")
    events = httpx.get(f"{url}/api/visits/{other}", headers=region.op, timeout=30).json()["events"]
    assert [e["reason"] for e in events if e["move"] == "decline"] == ["Too far away"]

    # Observations as a step of their own; the service's NEWS2 answer, and at high risk a big "Call 112".
    card.locator("[data-act=accept]").click()
    card.locator("[data-act=on_scene]").click()
    card.locator(".state", has_text="on scene").wait_for()
    card.locator("[data-act=observations]").click()
    for field, value in (("respiration_rate", "26"), ("spo2", "90"), ("systolic_bp", "95"), ("pulse", "125"),
                         ("temperature", "39.5")):
        card.locator(f"input[name={field}]").fill(value)
    card.locator("select[name=consciousness]").select_option("voice")
    card.locator(".obs-form button[type=submit]").click()
    call = card.locator(".news2.high").get_by_role("link", name="Call 112")
    call.wait_for()
    assert call.get_attribute("href") == "tel:112" and "Call 112" in call.inner_text()
    assert "112" in card.locator(".news2 .response").inner_text()
    assert call.bounding_box()["height"] >= 48
    recorded = httpx.get(f"{url}/api/visits/{visit_id}", headers=region.op, timeout=30).json()["observations"]
    assert recorded[-1]["news2_risk"] == "high" and recorded[-1]["call_112"]
    _shot(page, "13-news2-call-112")
    page.reload()  # kept on the card
    card.locator(".news2.high a.call112").wait_for()

    # No connection: the banner says so and counts what waits; it clears by itself when the connection returns.
    browser.set_offline(True)
    banner = page.locator("#offline")
    banner.wait_for()
    assert "your actions are kept" in banner.inner_text()
    card.locator("[data-act=keysafe]").click()  # never queued: she is told why, until the connection returns
    card.locator(".error", has_text="No connection").wait_for()
    card.locator("[data-act=observations]").click()  # observations again, after oxygen: kept, scored later
    for field, value in (("respiration_rate", "18"), ("spo2", "96"), ("systolic_bp", "120"), ("pulse", "80"),
                         ("temperature", "37.0")):
        card.locator(f"input[name={field}]").fill(value)
    card.locator(".obs-form button[type=submit]").click()
    card.locator(".news2.waiting").wait_for()
    page.wait_for_selector("#offline:has-text('1 waiting to send')")
    _shot(page, "14-no-connection")
    browser.set_offline(False)
    banner.wait_for(state="hidden", timeout=15000)
    card.locator(".error:empty").wait_for(state="attached")  # "no connection" is gone with it
    card.locator(".news2.low").wait_for(timeout=15000)  # the service's score, once they were sent
    assert "NEWS2 0" in card.locator(".news2").inner_text()

    browser.set_offline(True)
    banner.wait_for()
    card.locator("[data-act=complete]").click()
    card.locator("textarea[name=note]").fill("NEWS2 9, then 0 after oxygen; stays home as she wishes.")
    card.locator(".complete-form button[type=submit]").click()
    page.wait_for_selector("#offline:has-text('1 waiting to send')")
    page.get_by_role("status").filter(has_text="will be sent when the connection returns").wait_for()
    _shot(page, "16-completed-offline", full_page=False)
    browser.set_offline(False)
    banner.wait_for(state="hidden", timeout=15000)
    page.get_by_role("status").filter(has_text="handover note sent").wait_for(timeout=15000)
    _axe(page, "#done")
    _wait(lambda: httpx.get(f"{url}/api/visits/{visit_id}", headers=region.op, timeout=30).json()["state"]
          == "completed", "the queued completion sent")

    # Logging out stops her position reports and leaves nothing of her on the screen.
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    assert page.is_hidden("#who") and page.is_hidden("#position-settings")
