"""Insight end to end in Debian's headless Chromium (Playwright), against the real service serving the demo region
on a clock set to the morning after a night the test wrote (tests/insight_night.py): the coordinator logs in and
reads the response tiles against the region's targets, the two charts, the table per organisation and the triage
compliance; then picks another period. Checked with axe-core; screenshots kept in test-artifacts/insight-*.png."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, col, select

from dispatch.clients.models import Client
from dispatch.db import make_engine
from dispatch.nurses.models import Shift
from dispatch.organisations.models import Organisation
from tests.insight_night import record_call, record_night
from tests.test_console import PASSWORD, _axe, chromium  # noqa: F401 - the browser fixture
from tests.test_live import Region
from tests.test_nurse_app import ARTIFACTS

pytestmark = pytest.mark.slow
MORNING = "2026-01-15T09:00:00+01:00"  # the night of 14 January is over: it is "last night"
NIGHT = date(2026, 1, 14)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    tmp = tmp_path_factory.mktemp("insight")
    url = f"sqlite:///{tmp / 'nightcare.db'}"
    region = Region(url, tmp, clock_start=MORNING)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            orgs = {o.code: o.id for o in session.exec(select(Organisation)) if o.id is not None}
            a, b = orgs["de-brink"], orgs["drentsche-aa"]
            ours = [i for i in session.exec(select(Client.id).where(Client.organisation_id == a)
                                            .order_by(col(Client.id))) if i is not None]
            theirs = [i for i in session.exec(select(Client.id).where(Client.organisation_id == b)
                                              .order_by(col(Client.id))) if i is not None]
            clients = dict(zip(("a1", "a2", "a3"), ours, strict=False)) | dict(zip(("b1", "b2"), theirs, strict=False))
            record_night(session, day=NIGHT, zone=ZoneInfo("Europe/Amsterdam"), orgs=(a, b), clients=clients,
                         nurses=(region.nurse_ids["nurse1"], region.nurse_ids["nurse2"]))
            # Tonight so far (09:00): nurse1 on shift since 07:00 (till 15:00), on her way to a U2 call of 08:57.
            zone = ZoneInfo("Europe/Amsterdam")
            tonight = datetime.combine(NIGHT + timedelta(days=1), time(7), zone)
            session.add(Shift(nurse_id=region.nurse_ids["nurse1"], starts_at=tonight,
                              ends_at=tonight + timedelta(hours=8), state="started"))
            record_call(session, ref="tonight-2", at=tonight + timedelta(minutes=117), org_id=a,
                        client_id=clients["a1"], runs=(("U2", "nurse_visit"),), sent=True,
                        nurse_id=region.nurse_ids["nurse1"], moves=((1, "en_route"),))
            session.commit()
    finally:
        engine.dispose()
    yield region
    region.stop()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"insight-{name}.png"), full_page=True)


def _tile(page, urgency: str) -> dict[str, str]:
    tile = page.locator(f"#tiles li[data-urgency={urgency}]")
    return {f: tile.locator(f"[data-figure={f}]").inner_text() for f in ("p90", "within", "target")}


def test_the_coordinator_reads_last_night(region: Region, chromium) -> None:  # noqa: F811 - the fixture
    page = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{region.url}/insight/")
    _axe(page, "insight's login")
    page.fill("input[name=username]", "coordinator")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")

    # Last night's response per urgency against the region's targets (30 min for U0–U2, 2 h for U3).
    page.wait_for_selector("#tiles li[data-urgency=U2]")
    assert _tile(page, "U2") == {"p90": "45 min", "within": "67 %", "target": "30 min"}
    assert _tile(page, "U3") == {"p90": "90 min", "within": "100 %", "target": "120 min"}
    assert _tile(page, "U1") == {"p90": "20 min", "within": "100 %", "target": "30 min"}
    assert _tile(page, "U0")["p90"] == "—"
    assert "1 not reached" in page.inner_text("#tiles li[data-urgency=U3]")
    period = page.inner_text("#period")
    assert "Wed 14 Jan, 07:00" in period and "Thu 15 Jan, 07:00" in period and "9 calls" in period, period

    # The charts are drawn from the same figures: nine calls over the hours, p90 per urgency in minutes.
    page.wait_for_function("() => document.querySelector('#chart-times').dataset.drawn === 'true'")
    drawn = page.evaluate("""() => ({
        calls: Chart.getChart('chart-hours').data.datasets.flatMap((d) => d.data).reduce((a, b) => a + b, 0),
        hours: Chart.getChart('chart-hours').data.labels,
        p90: Chart.getChart('chart-times').data.datasets.find((d) => d.label === 'p90').data })""")
    assert drawn["calls"] == 9 and drawn["hours"][0] == "23:00" and drawn["hours"][-1] == "05:00", drawn
    assert drawn["p90"] == [None, 20, 45, 90]

    orgs = page.inner_text("#orgs")
    assert "Thuiszorg De Brink" in orgs and "client not identified" in orgs
    brink = page.locator("#orgs tr", has_text="Thuiszorg De Brink").locator("td")
    assert brink.nth(0).inner_text() == "5" and brink.nth(5).inner_text() == "45 min"  # calls, U2 p90

    # The triage compliance of those days (the report is per region day: 14 and 15 January).
    page.locator("#compliance tr", has_text="All operators").wait_for(timeout=10000)
    total = page.locator("#compliance tr", has_text="All operators").locator("td")
    assert total.nth(2).inner_text() == "12" and total.nth(5).inner_text() == "100 %"
    page.locator("#protocols table").wait_for(timeout=10000)
    _axe(page, "last night")
    _shot(page, "1-last-night")

    # Seven nights: the call of the night before is in them too.
    page.click(".periods button[data-nights='7']")
    page.wait_for_function("() => document.querySelector('#period').textContent.startsWith('7 nights')")
    assert "10 calls" in page.inner_text("#period")
    _shot(page, "2-seven-nights")
    # Tonight (the night of 15 January, from 07:00) is going on: its calls so far (07:30, reached in 10 min; 08:57,
    # the nurse on her way: under way, not "not reached"), and the page says the figures are as of now. The nurse on
    # shift since 07:00 has been so for 2 hours, not her planned 8.
    page.click(".periods button[data-nights='tonight']")
    page.wait_for_function("() => document.querySelector('#period').textContent.includes('Still going on')")
    assert "2 calls." in page.inner_text("#period") and _tile(page, "U2")["p90"] == "10 min"
    u2 = page.inner_text("#tiles li[data-urgency=U2]")
    assert "1 under way" in u2 and "not reached" not in u2, u2
    coordinator = {"Authorization": f"Bearer {region.token('coordinator')}"}
    names = {n["id"]: n["name"] for n in httpx.get(f"{region.url}/api/nurses", headers=coordinator, timeout=30).json()}
    nurse = page.locator("#nurses tr", has_text=names[region.nurse_ids["nurse1"]]).locator("td")
    assert nurse.nth(0).inner_text() == "2:00 h" and nurse.nth(3).inner_text() == "0 %"
    assert errors == []
    api = httpx.get(f"{region.url}/api/insight/kpis", headers=coordinator, timeout=30).json()
    assert api["to"] == NIGHT.isoformat() and api["calls"] == 9
