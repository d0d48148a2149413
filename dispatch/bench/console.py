"""Console benchmark:
`nightcare bench console [--calls 300] [--seconds 120] [--consoles 3] [--backend sqlite|postgresql]`.

What an operator feels during a calamity burst: how long from a call's intake until its row is on every open
console's board, and whether the board's page stays responsive while it happens.

It starts the real service (`nightcare db upgrade`, `seed`, `serve` in a subprocess) on a clock started at 02:00
local (nurses on duty, the planner at work), opens N operator consoles (`/console/`) in Debian's headless Chromium
(Playwright, 1600×900, one browser context each, logged in as `operator`, `operator2`, then operators created for
the run), and waits until each board is live. In each page it then installs a `PerformanceObserver` for long tasks
(main-thread tasks over 50 ms) and a `MutationObserver` on `#calls` stamping, for every `li[data-call]`, the moment
(`performance.timeOrigin + performance.now()`) it is first in the DOM, and the start of the next animation frame
(when that row is drawn). A script added before the page's own wraps its WebSocket only to stamp when a call's
first `call.changed` event arrives (split: service → socket, socket → DOM).

The calls go through the public API (`POST /api/calls`, source `alarm`, a unique `source_ref`), evenly spread over
`--seconds` from `--clients` HTTP clients; the caller's number is a seeded client's own line (the row carries a
name), a line two seeded clients share (ambiguous: the operator identifies) or a number nobody has. Per console it
prints the latency from the request being sent to the row being in the DOM (p50, p99, max; the browser's clock is
calibrated against this process's), the calls that never rendered, the longest main-thread task and the count and
total of long tasks during the burst; and the intake latency (request → 201). Nobody triages during the burst, so
every call stays open and belongs on every board. Exits 1 if a call never reached a board (or was not taken).

Traffic goes only to the service on 127.0.0.1 (the map's tiles point at the service itself, which has none).
"""
from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

import dispatch.models  # noqa: F401 - every table known to the ORM
from dispatch.bench.intake import _percentile
from dispatch.clients.models import ClientPhone
from dispatch.db import make_engine
from dispatch.devtools.postgres import SERVICE, Cluster
from dispatch.devtools.server import ServerProcess, nightcare, service_env
from dispatch.seed.demo import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Three operators at three desks: every console is a foreground page, so Chromium must not throttle the ones it
# would otherwise consider hidden.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--disable-background-timer-throttling",
         "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows", "--mute-audio"]
CLOCK_START = "2026-01-14T02:00:00+01:00"
INTAKE_USER, INTAKE_PASSWORD = "bench-intake", "intake-load-runner"
EXTRA_PASSWORD = "watches-the-board-at-night"
VIEWPORT = {"width": 1600, "height": 900}

# Before the page's own scripts: stamp when a call's first call.changed event arrives on the board's socket.
INIT_SCRIPT = """(() => {
  const B = window.__ncBench = { dom: {}, frame: {}, arrived: {}, longtasks: [], closes: 0 };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        if (typeof ev.data !== "string" || !ev.data.includes('"call.changed"')) return;
        const t = performance.timeOrigin + performance.now();
        try { const id = JSON.parse(ev.data).call?.id; if (id != null && !(id in B.arrived)) B.arrived[id] = t; }
        catch { /* not ours to judge */ }
      });
      this.addEventListener("close", () => { B.closes++; });
    }
  };
})();"""

# Once the board is live: long tasks, and when each call's row is first in the DOM and first drawn.
OBSERVE = """() => {
  const B = window.__ncBench, stamp = () => performance.timeOrigin + performance.now();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) B.longtasks.push([performance.timeOrigin + e.startTime, e.duration]);
  }).observe({ type: "longtask" });
  let pending = [];
  const seen = (li) => {
    const id = li.dataset.call;
    if (id in B.dom) return;
    B.dom[id] = stamp();
    pending.push(id);
    if (pending.length > 1) return;
    requestAnimationFrame(() => { const t = stamp(); for (const p of pending) B.frame[p] = t; pending = []; });
  };
  const list = document.querySelector("#calls");
  for (const li of list.querySelectorAll("li[data-call]")) seen(li);
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1 && n.matches("li[data-call]")) seen(n);
  }).observe(list, { childList: true });
  return Object.keys(B.dom).length;
}"""

CLOCK = "() => performance.timeOrigin + performance.now()"
COLLECT = "() => ({ dom: window.__ncBench.dom, frame: window.__ncBench.frame, arrived: window.__ncBench.arrived, " \
          "longtasks: window.__ncBench.longtasks, closes: window.__ncBench.closes })"
TEXTS = ("personal alarm, no speech", "fall detector", "alarm pressed, caller says she cannot get up",
         "alarm, caller short of breath", "pendant alarm, no answer on the speaker")


@dataclass
class Sent:
    i: int
    kind: str  # known | shared | unknown caller
    sent_ms: float = 0.0
    answered_ms: float = 0.0
    status: int = 0
    call_id: int | None = None
    error: str = ""


@dataclass
class Console:
    username: str
    password: str
    page: Any = None
    offset_ms: list[float] = field(default_factory=list)  # browser clock - this process's clock


def _phones(database_url: str) -> tuple[list[str], list[str]]:
    """The seeded clients' numbers: those of one client only (matched: the row carries a name), and shared ones."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with Session(engine) as s:
            counted = s.exec(select(ClientPhone.number, func.count(func.distinct(ClientPhone.client_id)))
                             .group_by(col(ClientPhone.number)).order_by(col(ClientPhone.number))).all()
    finally:
        engine.dispose()
    return [n for n, c in counted if c == 1], [n for n, c in counted if c > 1]


def _caller(i: int, own: list[str], shared: list[str]) -> tuple[str, str]:
    """Six in ten calls from a client's own line, one in ten from a shared line, three in ten from nobody known."""
    slot = i % 10
    if slot < 6 and own:
        return "known", own[(i * 7) % len(own)]
    if slot == 6 and shared:
        return "shared", shared[i % len(shared)]
    return "unknown", f"+31505{i:06d}"  # Groningen numbers: the demo region's clients have none


async def _open_console(browser: Any, base: str, console: Console) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(INIT_SCRIPT)
    page = await context.new_page()
    await page.goto(f"{base}/console/")
    await page.fill("#login-form input[name=username]", console.username)
    await page.fill("#login-form input[name=password]", console.password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#line:text-is('live')", timeout=30_000)
    await page.evaluate(OBSERVE)
    console.page = page


async def _calibrate(console: Console) -> None:
    best = None
    for _ in range(5):
        before = time.time() * 1000
        browser_ms = await console.page.evaluate(CLOCK)
        after = time.time() * 1000
        if best is None or after - before < best[0]:
            best = (after - before, browser_ms - (before + after) / 2)
    console.offset_ms.append(best[1])  # type: ignore[index]


async def _load(base: str, headers: dict[str, str], *, calls: int, seconds: float, clients: int,
                own: list[str], shared: list[str]) -> list[Sent]:
    interval = seconds / calls
    start = time.time() + 0.5
    sent = [Sent(i, _caller(i, own, shared)[0]) for i in range(calls)]
    tag = f"bench-console-{int(start)}"
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:

        async def client(k: int) -> None:
            for i in range(k, calls, clients):
                await asyncio.sleep(max(0.0, start + i * interval - time.time()))
                record = sent[i]
                body = {"source": "alarm", "source_ref": f"{tag}-{i}", "caller_phone": _caller(i, own, shared)[1],
                        "text": TEXTS[i % len(TEXTS)]}
                record.sent_ms = time.time() * 1000
                try:
                    r = await http.post("/api/calls", json=body)
                except httpx.TransportError as exc:
                    record.error = type(exc).__name__
                    continue
                record.answered_ms, record.status = time.time() * 1000, r.status_code
                if r.status_code == 201:
                    record.call_id = r.json()["id"]
                else:
                    record.error = r.text[:200]

        await asyncio.gather(*(client(k) for k in range(clients)))
    return sent


async def _all_rendered(console: Console, ids: set[int]) -> bool:
    shown = await console.page.evaluate("() => Object.keys(window.__ncBench.dom)")
    return ids <= {int(i) for i in shown}


def _self_time(profile: dict[str, Any], top: int = 12) -> list[tuple[float, str]]:
    """A V8 CPU profile's heaviest functions by self time (ms): (total, 'function url:line')."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    spent: dict[int, float] = {}
    deltas = profile.get("timeDeltas", [])
    for k, node_id in enumerate(profile.get("samples", [])):
        step = deltas[k + 1] if k + 1 < len(deltas) else 0
        spent[node_id] = spent.get(node_id, 0.0) + step / 1000
    by_name: dict[str, float] = {}
    for node_id, ms in spent.items():
        frame = nodes[node_id]["callFrame"]
        where = f" {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}" if frame.get("url") else ""
        name = f"{frame['functionName'] or '(anonymous)'}{where}"
        by_name[name] = by_name.get(name, 0.0) + ms
    return sorted(((ms, name) for name, ms in by_name.items() if name != "(idle)"), reverse=True)[:top]


async def _measure(base: str, *, consoles: list[Console], calls: int, seconds: float, clients: int, settle: float,
                   own: list[str], shared: list[str], profile: Path | None = None) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post("/api/auth/token", data={"username": INTAKE_USER, "password": INTAKE_PASSWORD})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            for console in consoles:  # one after another: a login hashes a password, the machine is small
                await _open_console(browser, base, console)
            for console in consoles:
                await _calibrate(console)
            await asyncio.sleep(2)  # the start-up re-plan's events settle before the burst
            cdp = None
            if profile is not None:  # the first console's main thread, sampled every 0.5 ms during the burst
                cdp = await consoles[0].page.context.new_cdp_session(consoles[0].page)
                await cdp.send("Profiler.enable")
                await cdp.send("Profiler.setSamplingInterval", {"interval": 500})
                await cdp.send("Profiler.start")
            burst_start = time.time() * 1000
            sent = await _load(base, headers, calls=calls, seconds=seconds, clients=clients, own=own, shared=shared)
            last_answer = time.time() * 1000
            ids = {s.call_id for s in sent if s.call_id is not None}
            deadline = time.monotonic() + settle
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                if all([await _all_rendered(c, ids) for c in consoles]):
                    break
            burst_end = time.time() * 1000
            heaviest: list[tuple[float, str]] = []
            if cdp is not None and profile is not None:
                cpu = (await cdp.send("Profiler.stop"))["profile"]
                await asyncio.to_thread(profile.write_text, json.dumps(cpu))
                heaviest = _self_time(cpu)
            collected = []
            for console in consoles:
                await _calibrate(console)
                collected.append(await console.page.evaluate(COLLECT))
        finally:
            await browser.close()
    return {"sent": sent, "collected": collected, "burst_start": burst_start, "burst_end": burst_end,
            "last_answer": last_answer, "heaviest": heaviest}


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {"p50": statistics.median(values), "p99": _percentile(values, 0.99), "max": max(values)}


def summarise(raw: dict[str, Any], consoles: list[Console]) -> dict[str, Any]:
    sent: list[Sent] = raw["sent"]
    taken = [s for s in sent if s.call_id is not None]
    rows = []
    for console, got in zip(consoles, raw["collected"], strict=True):
        offset = statistics.mean(console.offset_ms)
        dom = {int(k): v - offset for k, v in got["dom"].items()}
        frame = {int(k): v - offset for k, v in got["frame"].items()}
        arrived = {int(k): v - offset for k, v in got["arrived"].items()}
        latencies = [dom[s.call_id] - s.sent_ms for s in taken if s.call_id in dom]
        drawn = [frame[s.call_id] - s.sent_ms for s in taken if s.call_id in frame]
        in_browser = [dom[s.call_id] - arrived[s.call_id] for s in taken if s.call_id in dom and s.call_id in arrived]
        to_socket = [arrived[s.call_id] - s.sent_ms for s in taken if s.call_id in arrived]
        tasks = [d for start, d in got["longtasks"]
                 if raw["burst_start"] <= start - offset <= raw["burst_end"]]
        rows.append({
            "username": console.username, "rendered": len(latencies), "missing": [s.call_id for s in taken
                                                                                if s.call_id not in dom],
            "dom": _stats(latencies), "frame": _stats(drawn), "socket": _stats(to_socket),
            "browser": _stats(in_browser), "longest_task": max(tasks, default=0.0), "long_tasks": len(tasks),
            "long_total": sum(tasks), "closes": got["closes"],
            "clock_offset_ms": offset, "clock_drift_ms": max(console.offset_ms) - min(console.offset_ms)})
    answered = [s.answered_ms - s.sent_ms for s in sent if s.status]
    kinds = {k: sum(s.kind == k for s in sent) for k in ("known", "shared", "unknown")}
    spread = (max(s.sent_ms for s in sent) - min(s.sent_ms for s in sent)) / 1000 if sent else 0.0
    return {"calls": len(sent), "taken": len(taken), "failed": [(s.i, s.status, s.error) for s in sent
                                                                 if s.call_id is None],
            "intake": _stats(answered), "kinds": kinds, "spread_s": spread, "consoles": rows,
            "settle_s": (raw["burst_end"] - raw["last_answer"]) / 1000, "heaviest": raw["heaviest"]}


def _prepare(env: dict[str, str], consoles: int, owner_url: str = "") -> list[Console]:
    env = {**env, "NIGHTCARE_MIGRATION_DATABASE_URL": owner_url} if owner_url else env
    nightcare("db", "upgrade", env=env)
    if owner_url:
        nightcare("db", "grant", SERVICE, env=env)
    nightcare("seed", env=env)
    nightcare("user", "add", "--role", "operator", "--username", INTAKE_USER, "--password-stdin", env=env,
              input=INTAKE_PASSWORD + "\n")
    out = [Console("operator", DEMO_PASSWORD), Console("operator2", DEMO_PASSWORD)][:consoles]
    for k in range(len(out) + 1, consoles + 1):
        username = f"bench-console-{k}"
        nightcare("user", "add", "--role", "operator", "--username", username, "--password-stdin", env=env,
                  input=EXTRA_PASSWORD + "\n")
        out.append(Console(username, EXTRA_PASSWORD))
    return out


def _run_backend(backend: str, database_url: str, workdir: Path, *, owner_url: str = "", **options: Any) -> dict:
    env = service_env(database_url, NIGHTCARE_CLOCK_START=CLOCK_START,
                      NIGHTCARE_MAP_TILE_URL="/bench-no-tiles/{z}/{x}/{y}.png")
    consoles = _prepare(env, options.pop("consoles"), owner_url)
    own, shared = _phones(database_url)
    server = ServerProcess(env, workdir / f"{backend}.log")
    server.start()
    try:
        raw = asyncio.run(_measure(server.url, consoles=consoles, own=own, shared=shared, **options))
    finally:
        server.stop()
    return {"backend": backend, **summarise(raw, consoles)}


def run(*, backend: str, calls: int, seconds: float, consoles: int, clients: int = 4, settle: float = 10.0,
        profile: Path | None = None) -> dict:
    options: dict[str, Any] = {"calls": calls, "seconds": seconds, "consoles": consoles, "clients": clients,
                               "settle": settle, "profile": profile}
    if not Path(CHROMIUM).exists():
        raise SystemExit("nightcare bench console: Debian's chromium is missing (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="nightcare-bench-console-") as tmp:
        workdir = Path(tmp)
        if backend == "sqlite":
            return _run_backend("sqlite", f"sqlite:///{workdir / 'bench.db'}", workdir, **options)
        cluster = Cluster(durable=True)
        cluster.start()
        try:
            cluster.create_database("bench")
            return _run_backend("postgresql", cluster.service_url("bench"), workdir,
                                owner_url=cluster.owner_url("bench"), **options)
        finally:
            cluster.stop()


def print_table(result: dict[str, Any], *, seconds: float, clients: int) -> None:
    k, i = result["kinds"], result["intake"]
    print(f"{result['calls']} alarm calls over {seconds:.0f} s (sent over {result['spread_s']:.1f} s) from {clients} "
          f"HTTP clients, {len(result['consoles'])} consoles at 1600×900, {result['backend']}, clock at 02:00")
    print(f"callers: {k['known']} a client's own line, {k['shared']} a shared line, {k['unknown']} unknown")
    print(f"intake (request → 201): {result['taken']}/{result['calls']} taken, p50 {i['p50']:.1f} ms, "
          f"p99 {i['p99']:.1f} ms, max {i['max']:.1f} ms")
    print("request sent → row in the board's DOM (ms); 'drawn': → the next animation frame; 'socket': → the event "
          "at the page; long tasks (> 50 ms on the main thread) during the burst")
    print(f"{'console':<16} {'rendered':>9} {'p50':>7} {'p99':>7} {'max':>7} | {'drawn p99':>9} "
          f"{'socket p99':>10} | {'longest':>8} {'long n':>6} {'total ms':>9}")
    for c in result["consoles"]:
        d = c["dom"]
        print(f"{c['username']:<16} {c['rendered']:>4}/{result['taken']:<4} {d['p50']:>7.0f} {d['p99']:>7.0f} "
              f"{d['max']:>7.0f} | {c['frame']['p99']:>9.0f} {c['socket']['p99']:>10.0f} | "
              f"{c['longest_task']:>8.0f} {c['long_tasks']:>6} {c['long_total']:>9.0f}")
    notes = []
    for c in result["consoles"]:
        if c["closes"]:
            notes.append(f"{c['username']}: its socket closed {c['closes']} time(s) (the board reloaded)")
        if abs(c["clock_drift_ms"]) > 5:
            notes.append(f"{c['username']}: the browser's clock moved {c['clock_drift_ms']:.0f} ms against ours")
    for note in notes:
        print("note:", note)
    if result["heaviest"]:
        print(f"{result['consoles'][0]['username']}'s main thread during the burst (CPU profile, sampled; its figures "
              "above include the profiler's cost), heaviest by self time; (program): the browser's own work outside "
              "scripts — style, layout, paint, parsing HTML:")
        for ms, name in result["heaviest"]:
            print(f"  {ms:>8.0f} ms  {name}")
    missing = sum(len(c["missing"]) for c in result["consoles"])
    if result["failed"]:
        print(f"{len(result['failed'])} call(s) not taken: {json.dumps(result['failed'][:5])}")
    print("every call reached every board" if not missing else
          f"{missing} row(s) never rendered: " + "; ".join(f"{c['username']} {c['missing'][:10]}"
                                                           for c in result["consoles"] if c["missing"]))


def failed(result: dict[str, Any]) -> bool:
    return bool(result["failed"]) or any(c["missing"] for c in result["consoles"])
