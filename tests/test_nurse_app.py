"""The nurse phone app end to end in headless Chromium (Debian's, driven by Playwright) at a phone's size:
log in, start the shift with the bag check, a job arrives live, accept, reveal the key-safe code, complete; jobs
arriving meanwhile leave the code and a half-typed form on her screen. A second nurse is refused the code.

What the app shows depends on the hour (is she on shift? is the bag check due?), so the service runs on a clock
started at four hours of a winter night and day (NIGHTCARE_CLOCK_START): the test passes whatever the wall clock
says. Screenshots are kept in test-artifacts/ (CI keeps them)."""
from __future__ import annotations

import shutil
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
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
        yield context
        context.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"nurse-app-{name}.png"), full_page=True)


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
        # One thermometer with its calibration overdue: the check flags it, the shift still starts.
        thermometer = page.locator(".bag-row", has_text="Thermometer")
        thermometer.locator("input[data-f=calibration_due]").fill("2020-01-01")
        _shot(page, f"1-bag-check-{tag}")
        page.click("#bag-form button")
        page.wait_for_selector("text=out of calibration")
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
        card.locator(".materials input").first.fill("2")
        # A job update arriving while she types (any re-plan) leaves her note and her counts as she typed them.
        region.assign(others[1], "nurse1")
        page.locator(f"li.job[data-visit='{others[1]}']").wait_for(timeout=5000)
        assert card.locator("textarea[name=note]").input_value() == "Turned, comfortable, sleeping again."
        assert card.locator(".materials input").first.input_value() == "2"
        _shot(page, f"5-complete-form-{tag}")
        card.locator(".complete-form button[type=submit]").click()
        card.wait_for(state="detached")
        _shot(page, f"6-done-{tag}")
        op = region.op
        done = httpx.get(f"{region.url}/api/visits/{visit_id}", headers=op).json()
        assert done["state"] == "completed"
        restock = httpx.get(f"{region.url}/api/nightbag/restock", headers=op).json()["items"]
        assert any(line["used"] == 2 for line in restock)
        assert any(p["problem"] == "out of calibration" for line in restock for p in line["problems"])
    finally:
        region.stop()


def test_nothing_she_records_is_lost(tmp_path: Path, browser) -> None:
    """Vital signs in part are not scored or dropped: she is told which are missing and keeps what she typed. An
    action queued offline that the service refuses when it arrives (the job was cancelled meanwhile) is shown to
    her with the reason, and her handover note stays readable."""
    region = Region(f"sqlite:///{tmp_path / 'nightcare.db'}", tmp_path, clock_start=_at("01:30").isoformat())
    try:
        page = browser.new_page()
        page.goto(f"{region.url}/nurse/")
        page.fill("input[name=username]", "nurse1")
        page.fill("input[name=password]", "nightcare-demo")
        page.click("#login-form button")
        page.wait_for_selector("#bag:not([hidden]) .bag-row")
        page.click("#bag-form button")
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
        card.locator("input[name=respiration_rate]").fill("18")
        card.locator("input[name=spo2]").fill("95")
        card.locator("input[name=pulse]").fill("88")
        card.locator(".complete-form button[type=submit]").click()
        error = card.locator(".error")
        error.wait_for()
        page.wait_for_function(
            f"document.querySelector(`li.job[data-visit='{visit_id}'] .error`).textContent.length > 0")
        assert "systolic blood pressure" in error.inner_text() and "temperature" in error.inner_text()
        assert card.locator("textarea[name=note]").input_value() == note  # nothing she typed is gone
        assert httpx.get(f"{region.url}/api/visits/{visit_id}", headers=region.op).json()["state"] == "on_scene"
        _shot(page, "7-vitals-incomplete")

        for name in ("respiration_rate", "spo2", "pulse"):
            card.locator(f"input[name={name}]").fill("")
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
    finally:
        region.stop()
