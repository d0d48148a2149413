"""The `nightcare` command."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlmodel import Session

from dispatch import migrate
from dispatch.auth.models import Role, Team
from dispatch.auth.service import create_user, disable_user, enable_user
from dispatch.clients.cli import add_commands as add_client_commands
from dispatch.db import make_engine
from dispatch.errors import AppError
from dispatch.protocol_versions.cli import add_commands
from dispatch.settings import Settings
from dispatch.timeutil import utcnow

if TYPE_CHECKING:
    from dispatch.seed.demo import SeedReport


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        sys.exit(f"nightcare: invalid settings: {problems}")
    settings.start_clock()
    return settings


def _cmd_db(args: argparse.Namespace) -> None:
    settings = _settings()
    if args.action == "upgrade":
        migrate.upgrade(settings.migration_url)
    else:
        migrate.current(settings.migration_url)


def _cmd_db_grant(args: argparse.Namespace) -> None:
    """Run as the owner (NIGHTCARE_MIGRATION_DATABASE_URL): the service role may read and write rows only."""
    try:
        statements = migrate.grant(_settings().migration_url, args.role)
    except migrate.GrantError as exc:
        sys.exit(f"nightcare db grant: {exc}")
    print("\n".join(f"{s};" for s in statements))
    print(f"{args.role} may now read and write rows (no DDL), on these tables and on those later migrations create")


def _cmd_audit_verify(args: argparse.Namespace) -> None:
    """Walk the audit log's hash chain; exit 1 naming the first broken link."""
    from dispatch.audit import service as audit

    anchor = None
    if args.anchor:
        seq, _, hash_ = args.anchor.partition(":")
        if not seq.isdigit() or len(hash_) != 64:
            sys.exit("nightcare audit verify: --anchor is SEQ:HASH (a hash printed by an earlier verify)")
        anchor = int(seq), hash_
    engine = make_engine(_settings().database_url, pool_size=1)
    try:
        with Session(engine) as session:
            walker = audit.verify(session)
            if walker.broken:
                sys.exit(f"audit log broken at {walker.broken}; {walker.count} entries before it are intact")
            problem = audit.check_anchor(session, walker, seq=anchor[0], hash_=anchor[1]) if anchor else None
            if problem:
                sys.exit(f"audit log broken: {problem}")
    finally:
        engine.dispose()
    print(f"audit log intact: {walker.count} entries, last hash {walker.last_hash}"
          + (f"; the anchor at seq {anchor[0]} matches" if anchor else ""))


def _cmd_seed(args: argparse.Namespace) -> SeedReport:
    from dispatch.seed.demo import seed_demo

    settings = _settings()
    if settings.environment == "production":
        sys.exit("nightcare: the demo region is not seeded into a production database")
    engine = make_engine(settings.database_url, pool_size=1)
    report = seed_demo(engine, settings, now=utcnow())
    engine.dispose()
    print(f"demo region: +{report.organisations} organisations, +{report.clients} clients, +{report.nurses} nurses, "
          f"+{report.shifts} shifts, +{report.visits} planned visits")
    return report


def _read_password(args: argparse.Namespace) -> str:
    """The new password: one line of standard input (--password-stdin), or typed twice at a prompt. Never
    from the command line, where the process list and the shell history would show it."""
    if args.password is not None:
        sys.exit("nightcare: --password is not accepted (the process list and shell history would show it): "
                 "type it at the prompt, or pipe it in with --password-stdin")
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        sys.exit("nightcare: no terminal to ask for the password on: pipe it in with --password-stdin")
    password = getpass.getpass(f"Password for {args.username}: ")
    if getpass.getpass("The same password again: ") != password:
        sys.exit("nightcare: the two passwords differ; nothing was changed")
    return password


def _user_command(work) -> None:
    """Run one user command in a transaction of its own; a domain error becomes one line naming the field."""
    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session:
            message = work(session, settings)
            session.commit()
    except AppError as exc:
        sys.exit(f"nightcare: {exc.field + ': ' if exc.field else ''}{exc.detail}")
    finally:
        engine.dispose()
    print(message)


def _cmd_user_add(args: argparse.Namespace) -> None:
    password = _read_password(args)

    def add(session: Session, settings: Settings) -> str:
        create_user(session, settings=settings, username=args.username, password=password,
                    role=Role(args.role), organisation_code=args.organisation, nurse_id=args.nurse_id,
                    team=Team(args.team), clinician=args.clinician, profession=args.profession or "",
                    full_name=args.full_name or "")
        return f"user {args.username} ({args.role}) created"

    _user_command(add)


def _cmd_user_disable(args: argparse.Namespace) -> None:
    def disable(session: Session, _: Settings) -> str:
        revoked = disable_user(session, username=args.username)
        return f"user {args.username} disabled; {revoked} valid token{'s' if revoked != 1 else ''} revoked"

    _user_command(disable)


def _cmd_user_enable(args: argparse.Namespace) -> None:
    def enable(session: Session, _: Settings) -> str:
        enable_user(session, username=args.username)
        return f"user {args.username} enabled (they log in again: tokens revoked earlier stay revoked)"

    _user_command(enable)


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run("dispatch.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, log_level="info")


def _cmd_serve(args: argparse.Namespace) -> None:
    settings = _settings()
    if settings.is_sqlite and args.workers > 1:
        sys.exit("nightcare serve: --workers above 1 needs PostgreSQL (DATABASE_URL). With SQLite the workers "
                 "cannot tell each other's sockets about new jobs, and a nurse's phone would hear of them late.")
    _serve(args.host, args.port, args.workers)


def _night_clock(settings: Settings) -> str:
    """`--night`: start the clock at tonight's 23:30 (unless NIGHTCARE_CLOCK_START says otherwise, or it is night
    already). The variable is set for this process, so the app that uvicorn creates runs on the same clock."""
    from dispatch.seed.demo import night_clock_start

    if settings.clock_start is not None:
        return f"on the clock NIGHTCARE_CLOCK_START gives ({settings.clock_start.isoformat()})"
    start = night_clock_start(utcnow(), ZoneInfo(settings.region_timezone))
    if start is None:
        return "on real time: it is night already"
    os.environ["NIGHTCARE_CLOCK_START"] = start.isoformat()
    return f"on a clock started at tonight's {start:%H:%M} ({start:%Y-%m-%d}, {settings.region_timezone})"


def _cmd_run(args: argparse.Namespace) -> None:
    """Development: migrate, seed the demo region, print URLs and logins, serve."""
    from dispatch.seed.demo import DEMO_PASSWORD, SHIFT_END, SHIFT_START, is_night
    from web.pages import available_pages

    settings = _settings()
    clock = _night_clock(settings) if args.night else None
    if clock:
        settings = _settings()  # now with the clock start
    print(f"migrating the database ({settings.database_url})", flush=True)
    migrate.upgrade(settings.migration_url)
    print("seeding the demo region", flush=True)
    report = _cmd_seed(args)
    base = f"http://{args.host}:{args.port}"
    # The demo organisations' record systems are served by this same process (/demo-fhir/<code>/).
    own_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104 - a comparison, not a bind
    os.environ.setdefault("NIGHTCARE_DEMO_FHIR_BASE_URL", f"http://{own_host}:{args.port}")
    print(f"\nnightcare is starting on {base}")
    print(f"  {'home':<24} {base}/")
    for page in available_pages():
        logins = f" ({page.logins})" if page.logins else ""
        print(f"  {page.title:<24} {base + page.path:<32}{logins}".rstrip())
    shifts = f"{SHIFT_START:%H:%M}-{SHIFT_END:%H:%M}"
    if clock:
        print(f"\nthe service runs {clock}; the demo's nurses are on shift {shifts}")
    elif not is_night(utcnow(), ZoneInfo(settings.region_timezone)):
        print(f"\nthe demo's shifts are tonight's ({shifts}, {settings.region_timezone}): until then no nurse is on "
              "duty and the planner assigns nothing. To try the night now: make run NIGHT=1 (nightcare run --night)")
    print(f"\ndemo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, scope in report.users:
        print(f"  {username:<24} {role:<12} {scope}")
    print()
    sys.stdout.flush()
    _serve(args.host, args.port, 1)


def _cmd_keygen(_: argparse.Namespace) -> None:
    print(Fernet.generate_key().decode())


def _cmd_keys_rotate(_: argparse.Namespace) -> None:
    """Re-encrypt every key-safe code under NIGHTCARE_KEYSAFE_KEY (old keys in NIGHTCARE_KEYSAFE_PREVIOUS_KEYS)."""
    import dispatch.models  # noqa: F401
    from dispatch.keysafes.crypto import KeysafeCipher, rotate_all

    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session:
            count = rotate_all(session, KeysafeCipher(settings))
            session.commit()
    except ValueError as exc:
        sys.exit(f"nightcare: {exc}; put the old key in NIGHTCARE_KEYSAFE_PREVIOUS_KEYS")
    finally:
        engine.dispose()
    print(f"re-encrypted {count} key-safe codes under the current key; the previous keys can now be removed")


def _cmd_bench_intake(args: argparse.Namespace) -> None:
    from dispatch.bench import intake

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    intake.print_table(intake.run(backends=backends, calls=args.calls, workers=args.workers))


def _cmd_bench_login(args: argparse.Namespace) -> None:
    from dispatch.bench import login

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    rows = login.run(backends=backends, duration=args.duration, clients=args.clients,
                     intake_clients=args.intake_clients, interval=args.interval,
                     distinct_addresses=args.distinct_addresses)
    login.print_table(rows, duration=args.duration, interval=args.interval,
                      distinct_addresses=args.distinct_addresses)


def _cmd_bench_summaries(args: argparse.Namespace) -> None:
    from dispatch.bench import summaries

    summaries.print_table(summaries.run(clients=args.clients))


def _cmd_bench_portal(args: argparse.Namespace) -> None:
    from dispatch.bench import portal

    portal.print_table(portal.run(calls=args.calls, rounds=args.rounds), calls=args.calls)


def _cmd_bench_live(args: argparse.Namespace) -> None:
    from dispatch.bench import live

    live.run(phones=args.phones)


def _cmd_bench_console(args: argparse.Namespace) -> None:
    from dispatch.bench import console

    result = console.run(backend=args.backend, calls=args.calls, seconds=args.seconds, consoles=args.consoles,
                         clients=args.clients, settle=args.settle, profile=Path(args.profile) if args.profile else None)
    console.print_table(result, seconds=args.seconds, clients=args.clients)
    if console.failed(result):
        sys.exit(1)


def _cmd_bench_routing(args: argparse.Namespace) -> None:
    from dispatch.bench import routing as bench

    only = [p for p in (args.only or "").split(",") if p]
    rows = bench.run(Path(args.directory), time_limit=args.time_limit, only=only, default=not args.no_default,
                     vroom=not args.no_vroom)
    bench.summary(rows)


def _cmd_solve(args: argparse.Namespace) -> None:
    from routing.problem import ProblemError, from_dict
    from routing.solver import Options, solve

    try:
        raw = json.loads(Path(args.problem).read_text())
        problem = from_dict(raw)
    except (OSError, json.JSONDecodeError) as exc:
        sys.exit(f"nightcare solve: cannot read {args.problem}: {exc}")
    except ProblemError as exc:
        sys.exit(f"nightcare solve: {exc}")
    options = Options(time_limit_s=args.time_limit, solution_limit=args.solutions)
    print(json.dumps(solve(problem, options).to_dict(), indent=2))


def _cmd_simulate(args: argparse.Namespace) -> None:
    from dispatch.simulation.engine import simulate
    from routing.problem import ProblemError

    try:
        scenario = json.loads(Path(args.scenario).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        sys.exit(f"nightcare simulate: cannot read {args.scenario}: {exc}")
    try:
        result = simulate(scenario, args.policy, time_limit_s=args.time_limit, solutions=args.solutions)
    except ProblemError as exc:
        sys.exit(f"nightcare simulate: {args.scenario}: {exc}")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(json.dumps(result["kpis"], indent=2))


def _cmd_scenario(args: argparse.Namespace) -> None:
    from dispatch.simulation.scenario import generate

    print(json.dumps(generate(seed=args.seed, calls=args.calls, planned=args.planned, nurses=args.nurses), indent=2))


def _at_least(minimum: float, kind: type = int, what: str = "a whole number", maximum: float | None = None):
    """An argparse type: a number of this kind, at least `minimum` (and at most `maximum`), or a message
    naming the reason."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value >= minimum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}")
        return value
    return parse


COUNT, POSITIVE, PORT = _at_least(0), _at_least(1), _at_least(1, maximum=65535)
SECONDS = _at_least(0, float, "a number of seconds", maximum=3600)
WHOLE_SECONDS = _at_least(0, int, "a whole number of seconds")


def _cmd_bench_nights(args: argparse.Namespace) -> None:
    from dispatch.bench import nights

    nights.run(count=args.nights, calls=args.calls, planned=args.planned, nurses=args.nurses,
               time_limit=args.time_limit, misses=args.misses, foresight=args.foresight, solutions=args.solutions)


def _cmd_bench_decisions(args: argparse.Namespace) -> None:
    from dispatch.bench import decisions

    decisions.run(sizes=[(3, 50), (30, 300)], repeats=args.repeats)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nightcare", description="Regional night-care dispatch and triage")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="migrate, seed the demo region and serve (development)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=PORT, default=8000)
    run.add_argument("--night", action="store_true",
                     help="start the service's clock at tonight's 23:30, when the demo's nurses are on shift "
                          "(development only; it runs on from there)")
    run.set_defaults(func=_cmd_run)

    serve = sub.add_parser("serve", help="serve the API (database must be migrated)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=PORT, default=8000)
    serve.add_argument("--workers", type=POSITIVE, default=1)
    serve.set_defaults(func=_cmd_serve)

    db = sub.add_parser("db", help="database schema (run as the owner: NIGHTCARE_MIGRATION_DATABASE_URL)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for action, text in (("upgrade", "migrate the schema to the newest version"), ("current", "show its version")):
        db_sub.add_parser(action, help=text).set_defaults(func=_cmd_db, action=action)
    grant = db_sub.add_parser("grant", help="PostgreSQL: let ROLE read and write rows, and nothing else")
    grant.add_argument("role", help="the role the service connects as (DATABASE_URL), created beforehand")
    grant.set_defaults(func=_cmd_db_grant)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 1 naming the first broken link")
    verify.add_argument("--anchor", metavar="SEQ:HASH",
                        help="also check that entry SEQ still has HASH, noted earlier outside the database")
    verify.set_defaults(func=_cmd_audit_verify)

    seed = sub.add_parser("seed", help="seed the demo region (idempotent)")
    seed.set_defaults(func=_cmd_seed)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a user")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--username", required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from one line of standard input (default: ask for it twice)")
    # Refused with a message (and never echoed): without it argparse would take --password for an
    # abbreviation of --password-stdin and print the password in its error.
    add.add_argument("--password", help=argparse.SUPPRESS)
    add.add_argument("--organisation", help="organisation code (required for partners)")
    add.add_argument("--nurse-id", type=int, help="the nurse this login belongs to (required for nurses)")
    add.add_argument("--team", choices=[t.value for t in Team], default=Team.regional.value,
                     help="operators: the triage team (backup: a partner's team taking calls handed to it)")
    add.add_argument("--clinician", action="store_true", help="may draft protocol versions and sign them off")
    add.add_argument("--profession", help="a clinician's profession, recorded on sign-offs (e.g. GP)")
    add.add_argument("--full-name", help="the name recorded on sign-offs (default: the username)")
    add.set_defaults(func=_cmd_user_add)
    disable = user_sub.add_parser("disable", help="stop a user logging in and revoke every token of theirs")
    disable.add_argument("username")
    disable.set_defaults(func=_cmd_user_disable)
    enable = user_sub.add_parser("enable", help="let a disabled user log in again")
    enable.add_argument("username")
    enable.set_defaults(func=_cmd_user_enable)
    add_commands(sub, user_sub, user_command=_user_command)
    add_client_commands(sub)

    keygen = sub.add_parser("keygen", help="print a new key for NIGHTCARE_KEYSAFE_KEY")
    keygen.set_defaults(func=_cmd_keygen)
    keys = sub.add_parser("keys", help="key-safe encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="re-encrypt every key-safe code under NIGHTCARE_KEYSAFE_KEY")
    rotate.set_defaults(func=_cmd_keys_rotate)
    bench = sub.add_parser("bench", help="benchmarks (print figures)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    bench_summaries = bench_sub.add_parser("summaries", help="client summary fetch p50/p95 against the demo "
                                           "record systems (cold and cached)")
    bench_summaries.add_argument("--clients", type=POSITIVE, default=120)
    bench_summaries.set_defaults(func=_cmd_bench_summaries)
    bench_portal = bench_sub.add_parser("portal", help="the partner portal's views: time until each is drawn")
    bench_portal.add_argument("--calls", type=POSITIVE, default=40)
    bench_portal.add_argument("--rounds", type=POSITIVE, default=5)
    bench_portal.set_defaults(func=_cmd_bench_portal)
    bench_intake = bench_sub.add_parser("intake", help="calls per second persisted, 1 and 50 clients")
    bench_intake.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    bench_intake.add_argument("--calls", type=POSITIVE, default=2000, help="calls per run at 50 clients")
    bench_intake.add_argument("--workers", type=POSITIVE, default=1, help="uvicorn workers (PostgreSQL only)")
    bench_intake.set_defaults(func=_cmd_bench_intake)
    bench_login = bench_sub.add_parser("login", help="intake latency during a flood of wrong-password logins")
    bench_login.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    bench_login.add_argument("--duration", type=_at_least(1, float, "a number of seconds", maximum=600),
                             default=60.0, help="seconds of intake alone, then as long with the flood (default 60)")
    bench_login.add_argument("--clients", type=_at_least(1, maximum=256), default=16,
                             help="attackers sending wrong passwords (default 16)")
    bench_login.add_argument("--intake-clients", type=_at_least(1, maximum=64), default=4)
    bench_login.add_argument("--interval", type=_at_least(0.01, float, "a number of seconds", maximum=10),
                             default=0.1, help="seconds between calls, all intake clients together (default 0.1)")
    bench_login.add_argument("--distinct-addresses", action="store_true",
                             help="the service trusts X-Forwarded-For and each attacker request claims its own "
                                  "address (a distributed attack); by default all come from 127.0.0.1")
    bench_login.set_defaults(func=_cmd_bench_login)
    bench_live = bench_sub.add_parser("live", help="websocket fan-out and reconnect storm of N phones")
    bench_live.add_argument("--phones", type=POSITIVE, default=200)
    bench_live.set_defaults(func=_cmd_bench_live)
    bench_console = bench_sub.add_parser("console", help="intake → row on each open console's board; long tasks")
    bench_console.add_argument("--calls", type=_at_least(1, maximum=1000), default=300,
                               help="calls in the burst (default 300; the board loads at most 1000 open calls)")
    bench_console.add_argument("--seconds", type=_at_least(1, float, "a number of seconds", maximum=600),
                               default=120.0, help="the calls are spread evenly over this long (default 120)")
    bench_console.add_argument("--consoles", type=_at_least(1, maximum=8), default=3,
                               help="operator consoles open in headless Chromium (default 3)")
    bench_console.add_argument("--clients", type=_at_least(1, maximum=32), default=4,
                               help="HTTP clients sending the calls (default 4)")
    bench_console.add_argument("--settle", type=_at_least(0, float, "a number of seconds", maximum=120),
                               default=10.0, help="after the last call, wait at most this long for the boards")
    bench_console.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    bench_console.add_argument("--profile", metavar="FILE.cpuprofile",
                               help="also write a CPU profile of the first console during the burst (DevTools can "
                                    "open it) and print its heaviest functions")
    bench_console.set_defaults(func=_cmd_bench_console)
    bench_routing = bench_sub.add_parser("routing", help="Solomon instances: gap to best known, with VROOM")
    bench_routing.add_argument("directory", help="a folder of Solomon .vrptw files, with best_known.csv in it or "
                                                 "its parent (not in the repository)")
    bench_routing.add_argument("--time-limit", type=SECONDS, default=1.0, help="seconds per instance")
    bench_routing.add_argument("--only", help="comma-separated name prefixes, e.g. C1,R2")
    bench_routing.add_argument("--no-default", action="store_true", help="skip OR-Tools with default settings")
    bench_routing.add_argument("--no-vroom", action="store_true", help="skip VROOM")
    bench_routing.set_defaults(func=_cmd_bench_routing)

    bench_nights = bench_sub.add_parser("nights", help="generated nights: optimised vs nearest vs clairvoyant")
    bench_nights.add_argument("--nights", type=POSITIVE, default=20)
    # The defaults are the busy nights of the notes (24 calls + 20 planned); the quieter ones are 16 + 12.
    bench_nights.add_argument("--calls", type=COUNT, default=24, help="calls per night (default 24)")
    bench_nights.add_argument("--planned", type=COUNT, default=20, help="planned visits per night (default 20)")
    bench_nights.add_argument("--nurses", type=POSITIVE, default=3)
    bench_nights.add_argument("--time-limit", type=SECONDS, default=0.1, help="solver seconds per re-plan")
    bench_nights.add_argument("--misses", action="store_true",
                              help="for each U2 optimised reached late: could any nurse have made it at that moment?")
    bench_nights.add_argument("--foresight", type=WHOLE_SECONDS, default=0, metavar="S",
                              help="measure the value of earlier information: the online policies learn of each "
                                   "call S seconds before it comes (default 0: as in the live service)")
    bench_nights.add_argument("--solutions", type=POSITIVE, metavar="N",
                              help="reproducible runs: each re-plan stops after N improving solutions instead of at "
                                   "--time-limit (100: about 0.1 s a re-plan on 16 calls + 12 planned, several "
                                   "times that on busier nights)")
    bench_nights.set_defaults(func=_cmd_bench_nights)
    bench_decisions = bench_sub.add_parser("decisions", help="decision latency: new visit to stored plan")
    bench_decisions.add_argument("--repeats", type=POSITIVE, default=40)
    bench_decisions.set_defaults(func=_cmd_bench_decisions)

    simulate = sub.add_parser("simulate", help="run a night scenario through the dispatch core")
    simulate.add_argument("scenario", help="SCENARIO.json (docs/night-scenario.md)")
    simulate.add_argument("--policy", choices=["optimised", "nearest", "clairvoyant"], default="optimised")
    simulate.add_argument("--time-limit", type=SECONDS, default=0.1, help="solver seconds per re-plan")
    simulate.add_argument("--solutions", type=POSITIVE, metavar="N",
                          help="reproducible runs: each re-plan stops after N improving solutions, not at --time-limit")
    simulate.add_argument("--json", action="store_true", help="the whole night as JSON (default: the KPIs)")
    simulate.set_defaults(func=_cmd_simulate)

    scenario = sub.add_parser("scenario", help="write a realistic night for the demo region (JSON)")
    scenario.add_argument("--seed", type=int, required=True)
    scenario.add_argument("--calls", type=COUNT, required=True)
    scenario.add_argument("--planned", type=COUNT, default=20)
    scenario.add_argument("--nurses", type=POSITIVE, default=3)
    scenario.set_defaults(func=_cmd_scenario)

    solve = sub.add_parser("solve", help="solve a routing problem (JSON) and print the plan")
    solve.add_argument("problem", help="PROBLEM.json (docs/routing-problem.md)")
    solve.add_argument("--time-limit", type=SECONDS, default=1.0, help="seconds (0: greedy insertion only)")
    solve.add_argument("--solutions", type=POSITIVE, metavar="N",
                       help="stop after N improving solutions (the time limit then only caps it): the same "
                            "problem gives the same plan on any machine, however busy")
    solve.set_defaults(func=_cmd_solve)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
