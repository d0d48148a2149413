"""`nightcare run` (what `make run` calls): migrate, seed, print the pages and the logins, serve; the home page
lists the same pages; the API reference renders in a browser that cannot reach the internet.

One `nightcare run --night` serves every test here: with --night the demo's nurses are on shift whatever the
wall clock says (the clock starts at tonight's 23:30, or runs on real time when it is night already)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from dispatch.devtools.postgres import free_port
from dispatch.devtools.server import service_env
from dispatch.seed.demo import DEMO_PASSWORD, night_clock_start
from web.pages import PAGES, available_pages

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
REGION = ZoneInfo("Europe/Amsterdam")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Demo:
    base: str
    printed: str

    def token(self, username: str) -> str:
        r = httpx.post(f"{self.base}/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("run")
    port = free_port()
    env = service_env(f"sqlite:///{tmp / 'demo.db'}", NIGHTCARE_ENVIRONMENT="development")
    env.pop("NIGHTCARE_CLOCK_START", None)
    out = tmp / "run.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dispatch.cli", "run", "--port", str(port), "--night"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, out.read_text()
                time.sleep(0.2)
        yield Demo(base, out.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_run_serves_the_seeded_demo_and_prints_logins(demo: Demo) -> None:
    assert f"password for all: {DEMO_PASSWORD}" in demo.printed
    for username in ("operator", "coordinator", "nurse1", "partner-de-brink"):
        assert username in demo.printed
    headers = {"Authorization": f"Bearer {demo.token('partner-de-brink')}"}
    clients = httpx.get(f"{demo.base}/api/clients", params={"limit": 500}, headers=headers).json()
    assert len(clients) == 75 and len({c["organisation_id"] for c in clients}) == 1
    # Summaries out of the box: the organisation's demo record system is served by this same process.
    summary = httpx.get(f"{demo.base}/api/clients/{clients[0]['id']}/summary", headers=headers, timeout=30).json()
    assert summary["available"] is True and summary["source"] == "Thuiszorg De Brink", summary


def test_with_night_the_demo_nurses_are_on_shift_at_any_hour(demo: Demo) -> None:
    me = httpx.get(f"{demo.base}/api/nurses/me", headers={"Authorization": f"Bearer {demo.token('nurse1')}"}).json()
    now, shift = datetime.fromisoformat(me["now"]), me["shift"]
    assert datetime.fromisoformat(shift["starts_at"]) <= now < datetime.fromisoformat(shift["ends_at"]), me
    assert re.search(r"the service runs on (a clock started at tonight's 23:30|real time: it is night already)",
                     demo.printed), demo.printed


@pytest.mark.parametrize(("local", "start"), [
    ("2026-01-14T14:00", "2026-01-14T23:30"), ("2026-01-14T22:59", "2026-01-14T23:30"),
    ("2026-01-14T23:00", None), ("2026-01-15T02:00", None), ("2026-01-15T07:14", None),
    ("2026-01-15T07:15", "2026-01-15T23:30"), ("2026-07-01T12:00", "2026-07-01T23:30")])
def test_night_starts_the_clock_at_tonights_half_past_eleven_unless_it_is_night(local: str, start: str | None) -> None:
    now = datetime.fromisoformat(local).replace(tzinfo=REGION)
    expected = None if start is None else datetime.fromisoformat(start).replace(tzinfo=REGION)
    assert night_clock_start(now, REGION) == expected


def _home_links(html: str) -> list[str]:
    listed = re.search(r'<ul id="pages">(.*?)</ul>', html, flags=re.DOTALL)
    assert listed, html
    return re.findall(r'href="([^"]+)"', listed.group(1))


def test_start_up_output_and_home_page_list_exactly_the_pages_that_exist(demo: Demo) -> None:
    existing = [p.path for p in available_pages()]
    assert {"/console/", "/nurse/", "/partner/", "/docs"} <= set(existing)
    printed = re.findall(rf"{re.escape(demo.base)}(/\S*)", demo.printed.split("demo logins")[0])
    assert [p for p in printed if p != "/"] == existing
    home = httpx.get(demo.base)
    assert home.status_code == 200
    assert _home_links(home.text) == existing
    # A page whose folder is absent (one being built elsewhere) is on neither list; every listed link answers.
    for page in PAGES:
        if page.path not in existing:
            assert page.path not in home.text and f"{demo.base}{page.path}" not in demo.printed
    for path in [*existing, "/openapi.json", "/healthz"]:
        assert httpx.get(f"{demo.base}{path}").status_code == 200, path


def test_a_page_is_listed_once_its_folder_is_there(tmp_path: Path) -> None:
    for folder in ("console", "nurse"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.html").write_text("<!doctype html>")
    (tmp_path / "insight").mkdir()  # a folder without its page yet
    assert [p.path for p in available_pages(tmp_path)] == ["/console/", "/nurse/", "/docs", "/redoc"]
    (tmp_path / "insight" / "index.html").write_text("<!doctype html>")
    assert "/insight/" in [p.path for p in available_pages(tmp_path)]


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[tuple[object, list[str]]]:
    """A Chromium context in which every request to anywhere but this machine is aborted (and noted)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    left: list[str] = []

    def only_local(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", only_local)
        yield context, left
        browser.close()


def test_the_api_reference_works_offline_and_logs_in(demo: Demo, offline_browser) -> None:
    context, left = offline_browser
    page = context.new_page()
    page.goto(f"{demo.base}/docs")
    page.locator('.opblock-summary-path[data-path="/api/calls"]').first.wait_for(state="visible")
    # Authorize: the OAuth2 password form gets a token, and "Try it out" uses it.
    page.click("button.authorize")
    page.fill("#oauth_username", "operator")
    page.fill("#oauth_password", DEMO_PASSWORD)
    page.click(".auth-btn-wrapper button.authorize")
    page.locator('.auth-btn-wrapper button[aria-label="Remove authorization"]').wait_for()
    page.click(".auth-btn-wrapper button.btn-done")
    me = page.locator('.opblock:has(.opblock-summary-path[data-path="/api/me"])').first
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    status = me.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-docs-swagger.png"))

    page.goto(f"{demo.base}/redoc")
    page.locator('[data-section-id^="operation/"]', has_text="/api/calls").first.wait_for(state="attached")
    assert "nightcare" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "api-docs-redoc.png"))
    assert left == [], f"requests left this machine: {left}"
