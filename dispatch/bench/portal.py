"""Partner portal benchmark: `nightcare bench portal [--calls 40] [--rounds 5]`.

How long a day team waits for each view of `/partner/`. It starts the real service (SQLite, the demo region, on a
clock at 06:45 at the end of a winter night), makes a night for the biggest organisation's clients through the
public API (`--calls` alarm calls, each triaged with protocol v2 to a deferral, so that every one leaves a call,
a triage and a day task in the handover), then opens the portal in Debian's headless Chromium (1280×800) as that
organisation's partner `--rounds` times, each in a fresh browser context (nothing cached), and measures:

- login: from pressing "Log in" to the night's handover drawn (`#handover .person`);
- each view: from the tab's click to its content drawn (day tasks, clients after a search, the access log,
  the cost-share statement).

It prints p50 and max per view in milliseconds. A script, not a test: the figures go into the notes.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx

from dispatch.bench.console import CHROMIUM, FLAGS
from dispatch.devtools.server import ServerProcess, nightcare, service_env
from dispatch.seed.demo import DEMO_PASSWORD

CLOCK_START = "2026-01-15T06:45:00+01:00"
ORGANISATION = "de-brink"
FALL_DEFERRED = {"abcd_awake": "yes", "abcd_sentence": "yes", "abcd_colour": "no", "abcd_alert": "no",
                 "fall_bleed_heavy": "no", "fall_injury": "no", "fall_head": "no", "fall_floor": "up",
                 "fall_wound": "no", "fall_walk": "yes"}
VIEWS = {  # tab → what shows it is drawn
    "tasks": "#tasks li[data-task]",
    "access": "#access tr",
    "costs": "#statement table",
}


def _token(base: str, username: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def _night(base: str, calls: int) -> None:
    """Alarm calls for the organisation's clients, each triaged to a deferral (a call, a triage, a day task)."""
    op = {"Authorization": f"Bearer {_token(base, 'operator')}"}
    coordinator = {"Authorization": f"Bearer {_token(base, 'coordinator')}"}
    org = next(o for o in httpx.get(f"{base}/api/organisations", headers=op, timeout=30).json()
               if o["code"] == ORGANISATION)
    clients = httpx.get(f"{base}/api/clients", params={"organisation_id": org["id"], "limit": 100},
                        headers=coordinator, timeout=30).json()
    with httpx.Client(base_url=base, headers=op, timeout=30) as http:
        for i in range(calls):
            client = clients[i % len(clients)]
            call = http.post("/api/calls", json={"source": "alarm", "source_ref": f"bench-portal-{i}",
                                                 "client_id": client["id"], "text": "fell, up again"}).json()
            run = http.post(f"/api/calls/{call['id']}/triage", json={"complaint": "fall"}).json()
            while run["step"]["type"] == "question":
                node = run["step"]["node"]
                run = http.post(f"/api/calls/{call['id']}/triage/answers",
                                json={"node": node, "answer": FALL_DEFERRED[node]}).json()
            http.post(f"/api/calls/{call['id']}/triage/decision", json={}).raise_for_status()


def _measure(base: str, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    took: dict[str, list[float]] = {"login → handover": [], "clients (search)": [],
                                    **{f"{v}": [] for v in VIEWS}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        for _ in range(rounds):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{base}/partner/")
            page.fill("input[name=username]", f"partner-{ORGANISATION}")
            page.fill("input[name=password]", DEMO_PASSWORD)
            started = time.perf_counter()
            page.click("#login-form button")
            page.locator("#handover .person").first.wait_for(timeout=30000)
            took["login → handover"].append((time.perf_counter() - started) * 1000)
            for view, drawn in VIEWS.items():
                started = time.perf_counter()
                page.click(f"button[data-view={view}]")
                page.locator(drawn).first.wait_for(timeout=30000)
                took[view].append((time.perf_counter() - started) * 1000)
            page.click("button[data-view=clients]")
            started = time.perf_counter()
            page.click("#client-search button")
            page.locator("#clients button[data-client]").first.wait_for(timeout=30000)
            took["clients (search)"].append((time.perf_counter() - started) * 1000)
            context.close()
        browser.close()
    return took


def run(*, calls: int, rounds: int) -> dict[str, list[float]]:
    if not Path(CHROMIUM).exists():
        raise SystemExit("nightcare bench portal: Debian's chromium is missing (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="nightcare-bench-portal-") as tmp:
        env = service_env(f"sqlite:///{Path(tmp) / 'bench.db'}", NIGHTCARE_CLOCK_START=CLOCK_START)
        nightcare("db", "upgrade", env=env)
        nightcare("seed", env=env)
        server = ServerProcess(env, Path(tmp) / "server.log")
        server.start()
        try:
            _night(server.url, calls)
            return _measure(server.url, rounds)
        finally:
            server.stop()


def print_table(took: dict[str, list[float]], *, calls: int) -> None:
    print(f"partner portal, {ORGANISATION}, a night of {calls} calls (SQLite, fresh browser context per round)")
    print(f"{'view':<20} {'p50 ms':>8} {'max ms':>8}")
    for view, values in took.items():
        print(f"{view:<20} {statistics.median(values):>8.0f} {max(values):>8.0f}")
