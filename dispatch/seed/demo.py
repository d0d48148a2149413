"""Seed the demo region. Deterministic and idempotent: running it again adds nothing twice."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import dispatch.models  # noqa: F401 - every table known to the ORM (foreign keys across domains)
from dispatch.auth.models import Role, Team, User
from dispatch.auth.service import create_user
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.costshare.models import CostAgreement
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.nightbag.models import BagItem
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.seed.places import ACCESS_NOTES, FAMILY_NAMES, GIVEN_NAMES, PLACES, Place
from dispatch.settings import Settings
from dispatch.visits.models import Visit

DEMO_PASSWORD = "nightcare-demo"
CLIENT_COUNT = 300
SEED = 20261122
EXTERNAL_SYSTEM = "ecd"

ORGANISATIONS = (
    ("de-brink", "Thuiszorg De Brink", "DB"),
    ("drentsche-aa", "Zorggroep Drentsche Aa", "DA"),
    ("midden-drenthe", "Wijkzorg Midden-Drenthe", "MD"),
    ("vaart-en-wijk", "Zorgcoöperatie Vaart & Wijk", "VW"),
)
NURSES = (
    ("Anouk Hesselink", "+31612340001", ["palliative", "catheter"]),
    ("Sanne Dijkstra", "+31612340002", ["wound", "diabetes", "catheter"]),
    ("Ilse Huizing", "+31612340003", ["palliative", "stoma", "pump"]),
)
CLINICIANS = (
    ("clinician1", "Marieke Oosting", "nurse practitioner"),
    ("clinician2", "Dr. Jeroen Lanting", "GP"),
)
PLANNED_KINDS: tuple[tuple[str, list[str], int], ...] = (
    ("Turning and positioning", [], 20),
    ("Insulin and glucose check", ["diabetes"], 15),
    ("Catheter care", ["catheter"], 20),
    ("Palliative pump check", ["palliative", "pump"], 25),
    ("Toilet round and incontinence care", [], 20),
    ("Wound dressing", ["wound"], 25),
    ("Night medication", [], 10),
)


@dataclass
class SeedReport:
    organisations: int = 0
    clients: int = 0
    nurses: int = 0
    shifts: int = 0
    visits: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, scope)


DEMO_CONSENT_DATE = date(2026, 1, 5)


def tonight(now: datetime, tz: ZoneInfo) -> date:
    """The date on which tonight's shift starts (before 07:00 local, that is still last night)."""
    local = now.astimezone(tz)
    return (local - timedelta(hours=7)).date()


SHIFT_START, SHIFT_END = time(23, 0), time(7, 15)  # the demo's shifts, in the region's time


def is_night(now: datetime, tz: ZoneInfo) -> bool:
    """Whether the demo's nurses are on shift at `now` (23:00 to 07:15 in the region)."""
    local = now.astimezone(tz).time()
    return local >= SHIFT_START or local < SHIFT_END


def night_clock_start(now: datetime, tz: ZoneInfo) -> datetime | None:
    """Where `nightcare run --night` starts the clock: tonight's 23:30 in the region, half an hour into the
    demo's shifts; None when it is night already, when real time will do."""
    if is_night(now, tz):
        return None
    return datetime.combine(now.astimezone(tz).date(), time(23, 30), tz)


def _get_or_create(session: Session, model, lookup: dict, **values):
    stmt = select(model)
    for key, value in lookup.items():
        stmt = stmt.where(getattr(model, key) == value)
    existing = session.exec(stmt).first()
    if existing is not None:
        return existing, False
    obj = model(**lookup, **values)
    session.add(obj)
    session.flush()
    return obj, True


def _point_near(rng: random.Random, place: Place) -> tuple[float, float]:
    distance = place.radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.2
    dlon = distance * math.sin(bearing) / (111.2 * math.cos(math.radians(place.lat)))
    return round(place.lat + dlat, 6), round(place.lon + dlon, 6)


def seed_demo(engine: Engine, settings: Settings, *, now: datetime) -> SeedReport:
    rng = random.Random(SEED)
    report = SeedReport()
    cipher = KeysafeCipher(settings)
    tz = ZoneInfo(settings.region_timezone)
    with Session(engine) as session:
        orgs = []
        for code, name, _ in ORGANISATIONS:
            org, created = _get_or_create(session, Organisation, {"code": code}, name=name)
            orgs.append(org)
            report.organisations += created
        report.clients = _seed_clients(session, rng, orgs, cipher)
        nurses = []
        for name, phone, skills in NURSES:
            nurse, created = _get_or_create(session, Nurse, {"phone": phone}, name=name, skills=skills)
            nurses.append(nurse)
            report.nurses += created
        night = tonight(now, tz)
        start = datetime.combine(night, SHIFT_START, tz)
        end = datetime.combine(night + timedelta(days=1), SHIFT_END, tz)
        for i, nurse in enumerate(nurses):
            _, created = _get_or_create(session, Shift, {"external_ref": f"demo-shift-{night}-{i}"},
                                        nurse_id=nurse.id, starts_at=start, ends_at=end)
            report.shifts += created
        report.visits = _seed_visits(session, rng, night, tz)
        report.users = _seed_users(session, settings, orgs, nurses)
        _seed_night_bag(session)
        _seed_cost_agreement(session, orgs, night)
        session.commit()
    return report


def _wishes(n: int) -> list[str]:
    """Recorded wishes of demo client n (not drawn: the random sequence of the rest stays as it was)."""
    return [w for w, every in (("do_not_hospitalise", 19), ("do_not_resuscitate", 7)) if n % every == 0]


def _risks(n: int) -> list[str]:
    return [r for r, every in (("anticoagulated", 5), ("diabetes_insulin", 8), ("lives_alone", 3), ("copd", 11),
                               ("heart_failure", 13), ("chemotherapy", 31), ("palliative", 23), ("dementia", 9))
            if n % every == 0]


def _seed_clients(session: Session, rng: random.Random, orgs: list[Organisation], cipher: KeysafeCipher) -> int:
    created = 0
    weights = [p.weight for p in PLACES]
    shared_line: str | None = None
    for n in range(1, CLIENT_COUNT + 1):
        # Draw everything first, so the sequence is the same whether or not the client exists already.
        org = orgs[(n - 1) % len(orgs)]
        assert org.id is not None  # flushed when seeded
        prefix = ORGANISATIONS[(n - 1) % len(orgs)][2]
        place = rng.choices(PLACES, weights)[0]
        lat, lon = _point_near(rng, place)
        street = rng.choice(place.streets)
        house = str(rng.randint(1, 180)) + rng.choice(("", "", "", "a", "b"))
        letters = "ABCDEGHJKLMNPRSTVWX"
        postcode = f"{place.postcode}{rng.randint(1, 9)} {rng.choice(letters)}{rng.choice(letters)}"
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        born = date(1926, 1, 1) + timedelta(days=rng.randint(0, 365 * 36))
        # Every tenth client shares a landline with the one before (a couple): matching by phone is
        # then ambiguous and the operator identifies the caller.
        line = shared_line if (n % 10 == 0 and shared_line) else f"+31592{rng.randint(300000, 399999)}"
        shared_line = line
        mobile = f"+316{rng.randint(20000000, 29999999)}" if rng.random() < 0.3 else None
        code = f"{rng.randint(0, 9999):04d}" if rng.random() < 0.75 else None
        access = rng.choice(ACCESS_NOTES)
        consent = rng.random() > 0.03
        external = f"{prefix}-{n:05d}"
        exists = session.exec(select(ClientExternalId).where(
            ClientExternalId.organisation_id == org.id, ClientExternalId.system == EXTERNAL_SYSTEM,
            ClientExternalId.value == external)).first()
        if exists:
            continue
        client = Client(organisation_id=org.id, given_name=given, family_name=family, date_of_birth=born,
                        street=street, house_number=house, postcode=postcode, city=place.name, lat=lat, lon=lon,
                        access_notes=access if code or not access.startswith("Key safe") else "",
                        keysafe_code_encrypted=cipher.encrypt(code) if code else None,
                        consent_night_team=consent, wishes=_wishes(n), risks=_risks(n),
                        # Demo clients who share with the night team share their summary too (no draw: the
                        # region stays the same).
                        consent_night_team_date=DEMO_CONSENT_DATE if consent else None,
                        consent_night_team_source="signed form (demo)" if consent else "",
                        consent_summary=consent, consent_summary_date=DEMO_CONSENT_DATE if consent else None,
                        consent_summary_source="signed form (demo)" if consent else "")
        session.add(client)
        session.flush()
        assert client.id is not None  # flushed
        session.add(ClientPhone(client_id=client.id, number=line))
        if mobile:
            session.add(ClientPhone(client_id=client.id, number=mobile))
        session.add(ClientExternalId(client_id=client.id, organisation_id=org.id, system=EXTERNAL_SYSTEM,
                                     value=external))
        created += 1
    session.flush()
    return created


def _seed_visits(session: Session, rng: random.Random, night: date, tz: ZoneInfo) -> int:
    created = 0
    clients = list(session.exec(select(Client).order_by(col(Client.id))).all())
    nightly = random.Random(f"{SEED}-{night}")
    chosen = nightly.sample(clients, k=min(24, len(clients)))
    for i, client in enumerate(chosen):
        label, skills, minutes = nightly.choice(PLANNED_KINDS)
        open_at = datetime.combine(night, time(23, 30), tz) + timedelta(minutes=nightly.randrange(0, 7 * 60, 15))
        width = timedelta(minutes=nightly.choice((30, 60, 60, 90, 120)))
        _, made = _get_or_create(session, Visit, {"external_ref": f"demo-{night}-{i:02d}"}, kind="planned",
                                 client_id=client.id, organisation_id=client.organisation_id, window_start=open_at,
                                 window_end=open_at + width, service_minutes=minutes, skills=list(skills),
                                 notes=label)
        created += made
    return created


def _seed_users(session: Session, settings: Settings, orgs: list[Organisation],
                nurses: list[Nurse]) -> list[tuple[str, str, str]]:
    wanted: list[tuple[str, Role, str | None, int | None, str]] = [
        ("operator", Role.operator, None, None, "triage call centre"),
        ("operator2", Role.operator, None, None, "triage call centre"),
        ("backup-operator", Role.operator, None, None, "backup triage team (Zorggroep Drentsche Aa)"),
        ("coordinator", Role.coordinator, None, None, "regional coordinator"),
    ]
    for i, nurse in enumerate(nurses, start=1):
        wanted.append((f"nurse{i}", Role.nurse, None, nurse.id, nurse.name))
    for code, name, _ in ORGANISATIONS:
        wanted.append((f"partner-{code}", Role.partner, code, None, name))
    # The region's clinicians, who sign off protocol versions (operators: senior triage staff, as in NTS centres).
    for username, full_name, profession in CLINICIANS:
        wanted.append((username, Role.operator, None, None, f"clinician: {profession}, {full_name}"))
    clinicians = {username: (full_name, profession) for username, full_name, profession in CLINICIANS}
    users = []
    for username, role, org_code, nurse_id, scope in wanted:
        if session.exec(select(User).where(User.username == username)).first() is None:
            full_name, profession = clinicians.get(username, ("", ""))
            create_user(session, settings=settings, username=username, password=DEMO_PASSWORD, role=role,
                        organisation_code=org_code, nurse_id=nurse_id,
                        team=Team.backup if username.startswith("backup-") else Team.regional,
                        clinician=username in clinicians, profession=profession, full_name=full_name)
        users.append((username, role.value, scope))
    return users


# The region's standard night bag (what every nurse carries; devices need a calibration date).
NIGHT_BAG = (
    ("Gloves (pairs)", "material", 20), ("Alcohol swabs", "material", 20), ("Wound dressings", "material", 10),
    ("Incontinence pads", "material", 6), ("Catheter set", "material", 2), ("Bladder syringe", "material", 2),
    ("Glucose test strips", "material", 25), ("Lancets", "material", 25), ("Subcutaneous needles", "material", 10),
    ("Sharps container", "material", 1), ("Glucose meter", "device", 1), ("Thermometer", "device", 1),
    ("Pulse oximeter", "device", 1), ("Blood-pressure monitor", "device", 1),
)


def _seed_night_bag(session: Session) -> None:
    have = {item.name for item in session.exec(select(BagItem))}
    for name, kind, quantity in NIGHT_BAG:
        if name not in have:
            session.add(BagItem(name=name, kind=kind, quantity=quantity))


def _seed_cost_agreement(session: Session, orgs: list[Organisation], night: date) -> None:
    """The demo region's agreement from the start of this year on: De Brink runs the night team; the cost is shared
    half by clients in care, half by calls (dispatch/costshare/service.py). Only when no agreement exists yet."""
    if session.exec(select(CostAgreement)).first() is not None:
        return
    runner_id = orgs[0].id
    assert runner_id is not None  # flushed when seeded
    session.add(CostAgreement(first_month=date(night.year, 1, 1), last_month=None,
                              runner_organisation_id=runner_id, monthly_cost_cents=4_200_000, model="mix",
                              weights={"clients": "1", "calls": "1"}, shares={},
                              participants=sorted(o.code for o in orgs),
                              note="demo: half by clients in care, half by calls", created_by="demo seed"))
