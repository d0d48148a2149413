"""The operators' console end to end in Debian's headless Chromium (Playwright) at desktop size, against the real
service serving the demo region at 02:00 on a winter night (nurses on duty, the planner at work):

- a phone call arrives through Twilio's webhook (a valid signature) and is on the board at once; the operator
  identifies the caller and triages the call with the keyboard to a U2 visit; the visit is on the map, assigned to
  a nurse with an ETA; the nurse accepts on her phone (a phone-sized browser); the board shows it accepted;
- a manual reassignment that sticks through re-plans; a cancellation that reaches the nurse's phone;
- a hand-over to the backup triage team and back, seen on both teams' boards;
- an alert acknowledged;
- every view checked with axe-core (from the npm registry): no serious or critical violations.

Screenshots are kept in test-artifacts/ (CI keeps them)."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_live import Region
from tests.test_nurse_app import ARTIFACTS, CHROMIUM, FLAGS
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, sign

pytestmark = pytest.mark.slow
AXE = Path(__file__).resolve().parent.parent / "web" / "node_modules" / "axe-core" / "axe.min.js"
NIGHT = "2026-01-14T02:00:00+01:00"
PASSWORD = "nightcare-demo"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    tmp = tmp_path_factory.mktemp("console")
    region = Region(f"sqlite:///{tmp / 'nightcare.db'}", tmp, clock_start=NIGHT,
                    NIGHTCARE_TWILIO_ACCOUNT_SID=ACCOUNT_SID, NIGHTCARE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                    NIGHTCARE_TWILIO_FROM_NUMBER="+3197010000001")
    yield region
    region.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"))


def _console(chromium, region: Region, username: str = "operator", **size: int):
    """A logged-in console in a browser context of its own (axe-core is injected later, past the page's CSP)."""
    context = chromium.new_context(viewport=size or DESKTOP, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{region.url}/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_selector("#console:not([hidden])")
    page.wait_for_selector("#line:not(.off)")
    page.errors = errors
    return page


def _axe(page, view: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it (web/package.json)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3)}))""")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{view}: {json.dumps(bad, indent=1)}"


def _twilio_call(region: Region, sid_digit: str, caller: str) -> int:
    params = {"CallSid": "CA" + sid_digit * 32, "From": caller, "To": "+31592300000", "CallStatus": "ringing"}
    url = f"{region.url}/twilio/voice"
    r = httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params)}, timeout=30)
    assert r.status_code == 200 and "<Response>" in r.text, r.text
    calls = httpx.get(f"{region.url}/api/calls", params={"open": True}, headers=region.op, timeout=30).json()
    return next(c["id"] for c in calls if c["source_ref"] == params["CallSid"])


def _client_named(region: Region) -> dict:
    """A demo client the caller will name (with no special skills needed, so any nurse may go)."""
    coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
    return httpx.get(f"{region.url}/api/clients", params={"q": "Jalving", "limit": 1}, headers=coordinator,
                     timeout=30).json()[0]


def _keys(page, keys: list[str]) -> int:
    """Press keys one by one, each after the console has answered the one before."""
    for key in keys:
        before = page.inner_text("#call-body .triage")
        page.keyboard.press(key)
        page.wait_for_function("b => document.querySelector('#call-body .triage').innerText !== b", arg=before)
    return len(keys)


def _row(page, call_id: int):
    return page.locator(f"#calls li[data-call='{call_id}']")


def _nurse_phone(chromium, region: Region, username: str):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{region.url}/nurse/")
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_selector("#bag:not([hidden]) .bag-row, #jobs:not([hidden])")
    if phone.is_visible("#bag"):
        phone.click("#bag-form button[type=submit]")
        phone.wait_for_selector("#bag-continue:visible, #jobs:not([hidden])")  # flags to read first, or none
        if phone.is_visible("#bag-continue"):
            phone.click("#bag-continue")
    phone.wait_for_selector("#jobs:not([hidden])")
    phone.wait_for_selector("#line:not(.off)")
    return phone


def test_a_phone_call_is_taken_triaged_and_followed_until_the_nurse_accepts(region: Region, chromium) -> None:
    page = _console(chromium, region)
    _axe(page, "the board")
    _shot(page, "1-board")
    client = _client_named(region)

    sent = time.monotonic()
    call_id = _twilio_call(region, "a", "+31612999001")  # a neighbour's mobile: not a client's number
    _row(page, call_id).wait_for(timeout=5000)
    on_board_s = time.monotonic() - sent
    assert "not identified" in _row(page, call_id).inner_text()
    _shot(page, "2-call-arrives")

    keys = 0

    def press(key: str) -> None:
        nonlocal keys
        page.keyboard.press(key)
        keys += 1

    press("Enter")  # the new call is selected: open it
    search = page.locator(".client-search")
    search.wait_for()
    # the cursor waits in the search box (put there once the call's details have arrived)
    page.wait_for_function("() => document.activeElement?.classList.contains('client-search')", timeout=3000)
    page.keyboard.type(client["family_name"])
    keys += len(client["family_name"])
    page.locator(".results li.active").wait_for()
    _axe(page, "identifying the caller")
    press("Enter")
    page.locator(f".client .title:has-text('{client['family_name']}')").wait_for()
    press("t")
    page.locator(".complaint-filter").wait_for()
    _axe(page, "choosing the complaint")
    press("1")  # Fall
    page.locator(".question").wait_for()
    _axe(page, "a question")
    keys += _keys(page, ["1", "1", "1", "1"])  # ABCD: awake, whole sentences, her usual colour, alert — as usual
    keys += _keys(page, ["1", "1", "1", "1"])  # no heavy bleeding, no bad pain, did not hit her head, on the floor
    page.locator(".outcome .advice").wait_for()
    assert "U2" in page.inner_text(".outcome .big")
    assert "nurse is coming" in page.inner_text(".outcome .advice")
    # The pre-arrival steps are written out in full, to read to the caller and tick off one by one (S).
    steps = page.locator(".outcome .steps li")
    assert steps.count() >= 3 and "blanket" in page.inner_text(".outcome .steps")
    assert "next" in (steps.nth(0).get_attribute("class") or "")
    page.keyboard.press("s")
    page.locator(".outcome .steps li.done").wait_for()
    assert "next" in (steps.nth(1).get_attribute("class") or "")
    _axe(page, "the outcome")
    _shot(page, "3-outcome")
    press("d")
    page.locator(".outcome .big:has-text('decided')").wait_for()
    assert page.locator(".outcome .steps li.done").count() == 1  # what was read stays ticked after deciding
    assert keys <= 13 + len(client["family_name"])  # few keys, no clicks, no double entry

    # The planner gives it to a nurse: her name and ETA on the board, the visit on the map and in her panel.
    row = _row(page, call_id)
    page.wait_for_function("id => /ETA \\d\\d:\\d\\d/"
                           ".test(document.querySelector(`#calls li[data-call='${id}']`).innerText)",
                           arg=call_id, timeout=15000)
    assert "U2" in row.inner_text() and "assigned" in row.inner_text()
    board = httpx.get(f"{region.url}/api/board", headers=region.op, timeout=30).json()
    visit = next(v for v in board["visits"] if v["call_id"] == call_id)
    nurse = next(n for n in board["nurses"] if n["id"] == visit["nurse_id"])
    assert nurse["name"] in row.inner_text()
    page.wait_for_function("n => document.querySelector('#nurses').innerText.includes(n)", arg=client["family_name"])
    assert page.locator(".leaflet-interactive").count() >= len(board["visits"])  # visits and nurses on the map
    _shot(page, "4-assigned")

    # She accepts on her phone; the board shows it at once.
    logins = zip(("nurse1", "nurse2", "nurse3"), _nurses_by_login(region), strict=True)
    username = {n["id"]: u for u, n in logins}[visit["nurse_id"]]
    phone = _nurse_phone(chromium, region, username)
    card = phone.locator(f"li.job[data-visit='{visit['id']}']")
    card.locator("[data-act=accept]").click()
    page.wait_for_function("id => document.querySelector(`#calls li[data-call='${id}']`)"
                           ".innerText.includes('accepted')",
                           arg=call_id, timeout=5000)
    _shot(page, "5-accepted")
    assert page.errors == []
    print(f"call on the board {on_board_s:.2f} s after the webhook answered; {keys} keys to a decided U2")
    phone.context.close()
    page.context.close()


def _nurses_by_login(region: Region) -> list[dict]:
    out = []
    for username in ("nurse1", "nurse2", "nurse3"):
        token = region.token(username)
        out.append(httpx.get(f"{region.url}/api/nurses/me", headers={"Authorization": f"Bearer {token}"},
                             timeout=30).json()["nurse"])
    return out


def _acute_call(region: Region, ref: str) -> tuple[int, int]:
    """A call triaged through the API to a U2 visit (the console tests below start from there)."""
    client = _client_named(region)
    call = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": ref,
                                                       "client_id": client["id"]}, headers=region.op, timeout=30).json()
    r = httpx.post(f"{region.url}/api/calls/{call['id']}/triage", json={"complaint": "fall"}, headers=region.op,
                   timeout=30).json()
    for answer in ("yes", "yes", "no", "no", "no", "no", "no", "on_floor"):  # ABCD as usual; on the floor
        r = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/answers",
                       json={"node": r["step"]["node"], "answer": answer}, headers=region.op, timeout=30).json()
    decided = httpx.post(f"{region.url}/api/calls/{call['id']}/triage/decision", json={}, headers=region.op,
                         timeout=30).json()
    return call["id"], decided["decision"]["visit"]["id"]


def test_a_reassignment_sticks_and_a_cancellation_reaches_the_phone(region: Region, chromium) -> None:
    call_id, visit_id = _acute_call(region, "console-reassign")
    page = _console(chromium, region)
    _row(page, call_id).click()
    page.locator("#call-body .visit .assign").wait_for()
    page.click("#call-body .visit .assign")
    page.wait_for_selector("dialog[open]")
    _axe(page, "the assign dialog")
    page.select_option("dialog [name=nurse_id]", label="Ilse Huizing")
    page.click("#dialog-ok")
    page.wait_for_function("id => document.querySelector(`#calls li[data-call='${id}']`).innerText.includes('Ilse')",
                           arg=call_id, timeout=5000)
    for _ in range(2):  # re-plans leave it with her
        assert httpx.post(f"{region.url}/api/assignment/replan", headers=region.op, timeout=30).status_code == 200
    visit = httpx.get(f"{region.url}/api/visits/{visit_id}", headers=region.op, timeout=30).json()
    ilse = next(n for n in _nurses_by_login(region) if n["name"] == "Ilse Huizing")
    assert visit["nurse_id"] == ilse["id"] and visit["locked"] is True and visit["state"] == "assigned"
    assert "locked by hand" in page.inner_text("#call-body .visit")
    _shot(page, "6-reassigned")

    phone = _nurse_phone(chromium, region, "nurse3")  # Ilse
    card = phone.locator(f"li.job[data-visit='{visit_id}']")
    card.wait_for()
    # The client's record from her organisation's (demo) record system, in the console and on the job card.
    page.wait_for_selector("#call-body .client .record h3:has-text('Record (')", timeout=5000)
    card.locator("[data-act=summary]").click()
    card.locator(".summary .record strong:has-text('Record (')").wait_for(timeout=5000)
    page.click("#call-body .visit .cancel-visit")
    page.fill("dialog [name=reason]", "daughter took her to hospital")
    page.click("#dialog-ok")
    card.wait_for(state="detached", timeout=5000)  # gone from her phone
    page.wait_for_function("id => !document.querySelector(`#calls li[data-call='${id}']`)", arg=call_id)
    events = httpx.get(f"{region.url}/api/calls/{call_id}", headers=region.op, timeout=30).json()["events"]
    assert events[-1]["to_state"] == "cancelled" and "daughter took her to hospital" in events[-1]["reason"]
    phone.context.close()
    page.context.close()


def test_a_call_is_handed_to_the_backup_team_and_back(region: Region, chromium) -> None:
    regional = _console(chromium, region)
    backup = _console(chromium, region, "backup-operator")
    assert "backup team" in backup.inner_text("#who")
    call = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": "console-backup",
                                                       "text": "peak: fourth alarm at once"},
                      headers=region.op, timeout=30).json()
    _row(regional, call["id"]).wait_for()
    assert _row(backup, call["id"]).count() == 0  # not theirs yet
    _row(regional, call["id"]).click()
    regional.wait_for_function("() => document.activeElement?.classList.contains('client-search')")  # loaded
    regional.keyboard.press("Escape")  # out of the search box: the keys are shortcuts again
    regional.keyboard.press("h")
    regional.wait_for_selector("dialog[open]")
    regional.fill("dialog [name=reason]", "three calls waiting")
    regional.click("#dialog-ok")
    _row(backup, call["id"]).wait_for(timeout=5000)  # on the backup team's board
    _axe(backup, "the backup team's board")
    _shot(backup, "7-backup-board")
    _row(backup, call["id"]).click()
    backup.locator("#call-body .handback").click()
    backup.click("#dialog-ok")
    _row(backup, call["id"]).wait_for(state="detached", timeout=5000)
    history = httpx.get(f"{region.url}/api/calls/{call['id']}", headers=region.op, timeout=30).json()["events"]
    reasons = [e["reason"] for e in history]
    assert any("handed to the backup triage team: three calls waiting" in r for r in reasons)
    assert any("handed back to the regional team" in r for r in reasons)
    assert "backup" not in _row(regional, call["id"]).inner_text()  # the region's own again
    backup.context.close()
    regional.context.close()


def test_an_alert_is_acknowledged_on_every_board(region: Region, chromium) -> None:
    first, second = _console(chromium, region), _console(chromium, region, "operator2")
    # A nurse starts her shift with a thermometer out of calibration: an alert for the operators.
    token = region.token("nurse2")
    me = httpx.get(f"{region.url}/api/nurses/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    items = httpx.get(f"{region.url}/api/nightbag/items", headers={"Authorization": f"Bearer {token}"},
                      timeout=30).json()
    counted = [{"item_id": i["id"], "quantity": i["quantity"],
                **({"calibration_due": "2020-01-01"} if i["kind"] == "device" else {})} for i in items]
    r = httpx.post(f"{region.url}/api/shifts/{me['shift']['id']}/start", json={"items": counted},
                   headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 201 and r.json()["flags"]
    raised = next(a for a in httpx.get(f"{region.url}/api/alerts", headers=region.op, timeout=30).json()
                  if a["kind"] == "bag_problem" and "out of calibration" in a["message"])
    assert raised["nurse_id"] == me["nurse"]["id"] and me["nurse"]["name"] in raised["message"]
    alert = first.locator(f"#alerts li[data-alert='{raised['id']}']")
    alert.wait_for(timeout=5000)
    second.locator(f"#alerts li[data-alert='{raised['id']}']").wait_for(timeout=5000)
    _axe(first, "the alerts")
    _shot(first, "8-alert")
    alert.locator(".ack").click()
    alert.wait_for(state="detached")
    second.locator(f"#alerts li[data-alert='{raised['id']}']").wait_for(state="detached", timeout=5000)  # there too
    listed = httpx.get(f"{region.url}/api/alerts", headers=region.op, timeout=30).json()
    assert all(a["id"] != raised["id"] for a in listed)
    second.context.close()
    first.context.close()


def test_after_a_lost_connection_the_board_says_so_reloads_and_nothing_typed_is_lost(region: Region, chromium) -> None:
    page = _console(chromium, region, width=1920, height=1080)
    _shot(page, "9-full-hd")
    page.keyboard.press("n")
    page.wait_for_selector("dialog[open]")
    page.fill("dialog [name=text]", "Neighbour: lights on all night, nobody answers the door")
    region.server.kill()  # the service goes down mid-call
    page.locator("#line.off").wait_for(timeout=10000)
    assert "Offline since" in page.inner_text("#banner")
    page.click("#dialog-ok")  # no connection: refused here, and the text stays in the dialog
    page.locator("#dialog-error").wait_for()
    page.wait_for_function("() => document.querySelector('#dialog-error').textContent.includes('no connection')")
    assert page.input_value("dialog [name=text]") == "Neighbour: lights on all night, nobody answers the door"
    region.server.start()
    made = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": "console-while-away"},
                      headers=region.op, timeout=30).json()  # came in while the console was away
    page.locator("#line:not(.off)").wait_for(timeout=20000)
    page.wait_for_function("() => document.querySelector('#banner').textContent.includes('Back online')")
    _row(page, made["id"]).wait_for(timeout=5000)  # the board re-synced from the service
    page.click("#dialog-ok")  # now it goes
    page.wait_for_selector("dialog[open]", state="detached")
    page.locator("#call-body .call-head:has-text('lights on all night')").wait_for(timeout=5000)
    page.context.close()


def _fall_on_screen(page, region: Region, ref: str) -> dict:
    """An alarm call about a named client, opened on the console and triaged as a fall (its first question shown)."""
    client = _client_named(region)
    call = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": ref, "client_id": client["id"]},
                      headers=region.op, timeout=30).json()
    _row(page, call["id"]).click()
    page.locator("#call-body .start-triage").wait_for()
    page.locator("#call").focus()
    page.keyboard.press("t")
    page.locator(".complaint-filter").wait_for()
    page.keyboard.press("1")  # Fall
    page.locator(".question").wait_for()
    return call


def test_a_call_to_112_is_recorded_and_the_coordinator_sends_new_calls_to_backup(region: Region, chromium) -> None:
    page = _console(chromium, region)
    call = _fall_on_screen(page, region, "console-112")
    _keys(page, ["1", "1", "1", "1", "1", "2"])  # ABCD as usual; no heavy bleeding; bad pain, a leg out of shape
    assert "call 112" in page.inner_text(".outcome .big")
    page.keyboard.press("d")
    page.locator("#call-body .escalate").wait_for()
    page.click("#call-body .escalate")
    page.wait_for_selector("dialog[open]")
    assert re.fullmatch(r"0[23]:\d\d", page.input_value("dialog [name=called_at]"))  # now, 24-hour, region time
    page.fill("dialog [name=contact]", "112 dispatcher Anna, ref 4711")
    page.fill("dialog [name=note]", "ambulance on its way, ETA 12 min")
    page.click("#dialog-ok")
    page.locator("#call-body .escalations:has-text('112 dispatcher Anna, ref 4711')").wait_for(timeout=5000)
    listed = httpx.get(f"{region.url}/api/calls/{call['id']}/escalations", headers=region.op, timeout=30).json()
    assert listed[0]["to"] == "call_112" and listed[0]["contact"] == "112 dispatcher Anna, ref 4711"
    _shot(page, "10-112-recorded")
    page.context.close()

    # A calamity: the coordinator sends every new call to the backup team for a while.
    coordinator = _console(chromium, region, "coordinator")
    coordinator.click("#overflow-state")
    coordinator.wait_for_selector("dialog[open]")
    coordinator.fill("dialog [name=until]", "04:00")
    coordinator.fill("dialog [name=reason]", "fire in the care home: many alarms")
    coordinator.click("#dialog-ok")
    coordinator.locator("#overflow-state:has-text('until 04:00')").wait_for(timeout=5000)
    backup = _console(chromium, region, "backup-operator")
    made = httpx.post(f"{region.url}/api/calls", json={"source": "alarm", "source_ref": "console-calamity"},
                      headers=region.op, timeout=30).json()
    assert made["team"] == "backup"
    _row(backup, made["id"]).wait_for(timeout=5000)
    assert httpx.put(f"{region.url}/api/overflow", json={"backup_until": None},
                     headers={"Authorization": f"Bearer {region.token('coordinator')}"}, timeout=30).status_code == 200
    backup.context.close()
    coordinator.context.close()


def test_the_operators_concern_sends_an_ambulance_before_the_protocol_ends(region: Region, chromium) -> None:
    page = _console(chromium, region)
    call = _fall_on_screen(page, region, "console-concern")
    _keys(page, ["1", "1", "1", "1"])  # ABCD as usual; now the fall's own questions
    page.keyboard.press("c")
    page.wait_for_selector("dialog[open]")
    assert "skipped" in page.inner_text("dialog")
    _axe(page, "the concern dialog")
    page.click("#dialog-ok")  # no reason: refused, the dialog stays
    page.locator("#dialog-error:not(:empty)").wait_for()
    page.fill("dialog [name=reason]", "she screams with pain and then goes quiet")
    page.click("#dialog-ok")
    page.locator(".outcome .big:has-text('decided')").wait_for(timeout=5000)
    assert "U1" in page.inner_text(".outcome .big") and "call 112" in page.inner_text(".outcome .big")
    assert "skipped" in page.inner_text(".outcome")
    decision = httpx.get(f"{region.url}/api/calls/{call['id']}/triage", headers=region.op,
                         timeout=30).json()["decision"]
    assert decision["questions_skipped"] >= 1 and decision["override_reason"].startswith("she screams")
    _shot(page, "11-concern-112")
    page.context.close()


def _stranger_on_screen(page, region: Region, text: str) -> int:
    """A call typed in by hand about somebody nobody has named yet, opened, its triage started (complaints shown)."""
    call = httpx.post(f"{region.url}/api/calls", json={"source": "manual", "text": text}, headers=region.op,
                      timeout=30).json()
    _row(page, call["id"]).click()
    page.wait_for_function("() => document.activeElement?.classList.contains('client-search')")  # loaded
    page.keyboard.press("Escape")
    page.keyboard.press("t")
    page.locator(".complaint-filter").wait_for()
    return int(call["id"])


def test_112_waits_for_no_name_and_every_refusal_is_said_where_the_operator_is(region: Region, chromium) -> None:
    page, focused = _console(chromium, region), "() => document.activeElement?.classList.contains('client-search')"
    sob = _stranger_on_screen(page, region, "Neighbour calls: man very short of breath, lips blue")
    _keys(page, ["2", "1", "2", "1"])  # Shortness of breath; awake, has to stop for breath, single words only
    assert "U1" in page.inner_text(".outcome .big") and "call 112" in page.inner_text(".outcome .big")
    page.keyboard.press("d")
    (waiting := page.locator("#call-body .waiting-for-client")).wait_for(timeout=5000)  # the nurse waits for a name
    assert "112 called" in waiting.inner_text() and "identify the client to send the nurse" in waiting.inner_text()
    page.locator("#call-body .call-head:has-text('escalated')").wait_for()
    (alert := page.locator(f"#alerts li:has-text('112 called for call {sob};')")).wait_for(timeout=5000)
    page.wait_for_function(focused)  # the cursor is where she is named
    _axe(page, "112 called, the client to be named")
    _shot(page, "12-112-unidentified")
    family = _client_named(region)["family_name"]
    page.keyboard.type(family)
    page.locator(".results li.active").wait_for()
    page.keyboard.press("Enter")  # named: the nurse is sent now, and the alert has done its work
    page.locator("#call-body .triage .outcome:has-text('Visit ')").wait_for(timeout=5000)
    assert waiting.count() == 0
    alert.wait_for(state="detached", timeout=5000)

    # A nurse visit is not sent to nobody: the refusal is said in the outcome, the cursor put in the client search.
    _stranger_on_screen(page, region, "Neighbour: she fell and cannot get up")
    _keys(page, ["1", "1", "1", "1", "1", "1", "1", "1", "1"])  # Fall; ABCD as usual; on the floor: U2 visit
    page.keyboard.press("d")
    page.locator(".outcome + .triage-error[role=alert]:has-text('identify the client')").wait_for(timeout=5000)
    assert page.locator(".outcome .decide").count() == 1  # not decided
    page.wait_for_function(focused)
    page.keyboard.press("Escape")
    for kept in (False, True):  # the override offers 112 with U1; a kept choice comes back with its dispositions
        page.keyboard.press("o")
        page.wait_for_selector("dialog[open]")
        if not kept:
            page.select_option("dialog [name=urgency]", "U1")
        offered = page.eval_on_selector_all("dialog [name=disposition] option", "os => os.map((o) => o.value)")
        assert page.input_value("dialog [name=urgency]") == "U1" and offered == ["call_112"]
        page.click("#dialog-cancel")
    # And in the question view: a colleague decided this run meanwhile; the answer given here is refused, and said.
    _keys(page, ["Backspace"])
    call_id = int(page.inner_text("#call-body .call-head .title").split()[-1])
    r = httpx.post(f"{region.url}/api/calls/{call_id}/triage/decision", headers=region.op, timeout=30,
                   json={"urgency": "U1", "disposition": "call_112", "reason": "the caller says she stopped breathing"})
    assert r.status_code == 200, r.text
    page.keyboard.press("1")
    page.locator(".step ~ .triage-error[role=alert]:has-text('is decided')").wait_for(timeout=5000)
    assert page.errors == []
    page.context.close()
