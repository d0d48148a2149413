"""Pushing the handover Bundle to the organisations' FHIR endpoints (`NIGHTCARE_HANDOVER_ENDPOINTS`).

`push_due` is one pass at a given moment (tests drive it with their own clock and an httpx MockTransport): for each
configured organisation, the last finished night's Bundle is POSTed once; a failure is recorded (attempts, last
error), alerted on its first occurrence and when the attempts run out, and tried again after a backoff that doubles
per attempt (capped at an hour). `HandoverPusher` runs it every `handover_push_tick_s` in the service. The bearer
token goes in the request's header only: never into a log line, an error or the table.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from dispatch.alerts.service import raise_alert
from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.handover.fhir import build_bundle
from dispatch.handover.models import HandoverPush
from dispatch.handover.service import REASON, collect, last_finished_night, night_of
from dispatch.organisations.models import Organisation
from dispatch.settings import HandoverEndpoint, Settings
from dispatch.timeutil import utcnow

log = logging.getLogger("nightcare.handover")
PUSHER = Principal(user_id=None, username="handover-push", role=Role.coordinator, organisation_id=None,
                   nurse_id=None)
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class PushResult:
    pushed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def backoff(settings: Settings, attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.handover_push_backoff_s * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim(engine: Engine, settings: Settings, org_code: str, night_day, now: datetime):
    """Lock the night's push row (creating it), and when it is due, lease it and build the Bundle."""
    with Session(engine, expire_on_commit=False) as session:
        org = session.exec(select(Organisation).where(Organisation.code == org_code)).first()
        if org is None or org.id is None:
            return None
        stmt = select(HandoverPush).where(HandoverPush.organisation_id == org.id, HandoverPush.night == night_day)
        row = session.exec(stmt.with_for_update()).first()
        if row is None:
            row = HandoverPush(organisation_id=org.id, night=night_day)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # another worker created it just now: it pushes
                session.rollback()
                return None
        if (row.pushed_at is not None or row.attempts >= settings.handover_push_max_attempts
                or (row.next_attempt_at is not None and row.next_attempt_at > now)):
            session.commit()
            return None
        handover = collect(session, org, night_of(night_day, settings), now=now)
        bundle = build_bundle(handover)
        # A lease: another worker's pass leaves it alone while this one is sending.
        row.next_attempt_at = now + timedelta(seconds=settings.handover_push_timeout_s + 30)
        session.add(row)
        session.commit()
        return row.id, org, handover, bundle


def _send(http: httpx.Client, endpoint: HandoverEndpoint, bundle: dict, timeout: float) -> str | None:
    """POST the Bundle; None when the server took it, else what went wrong (no token, no response body)."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    token = endpoint.token.get_secret_value()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = http.post(endpoint.url, content=json.dumps(bundle).encode(), headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} reaching the endpoint"
    if response.is_success:
        return None
    return f"HTTP {response.status_code} {response.reason_phrase}"[:200]


def _record(engine: Engine, settings: Settings, row_id: int, org: Organisation, handover: dict, error: str | None,
            now: datetime) -> None:
    with Session(engine) as session:
        row = session.exec(select(HandoverPush).where(HandoverPush.id == row_id).with_for_update()).one()
        row.attempts += 1
        row.last_attempt_at = now
        row.clients = handover["totals"]["clients"]
        night = handover["night"]
        if error is None:
            row.pushed_at, row.last_error, row.next_attempt_at = now, "", None
        else:
            row.last_error = error
            out_of_attempts = row.attempts >= settings.handover_push_max_attempts
            row.next_attempt_at = None if out_of_attempts else now + backoff(settings, row.attempts)
            if row.attempts == 1 or out_of_attempts:
                then = "no more attempts: send it by hand" if out_of_attempts else \
                    f"trying again at {row.next_attempt_at:%H:%M} UTC"
                raise_alert(session, kind="handover_push_failed",
                            message=f"handover of night {night} to {org.name} ({org.code}) not delivered "
                                    f"(attempt {row.attempts}): {error}; {then}")
        session.add(row)
        client_ids = [c["client"]["id"] for c in handover["clients"]]
        if client_ids:  # the Bundle left the service (or may have): a disclosure to the organisation's own system
            audit.record(session, PUSHER, action="push", data="handover", client_ids=client_ids,
                         reason=f"{REASON} (night {night}) to {org.code}'s FHIR endpoint",
                         on_behalf_of=org.code)
        session.commit()


def push_due(engine: Engine, settings: Settings, http: httpx.Client, *, now: datetime | None = None) -> PushResult:
    """One pass: push what is due of the last finished night, and retry earlier failures of that night."""
    now = now or utcnow()
    night_day = last_finished_night(now, settings)
    result = PushResult()
    for code, endpoint in settings.handover_endpoints.items():
        claimed = _claim(engine, settings, code, night_day, now)
        if claimed is None:
            continue
        row_id, org, handover, bundle = claimed
        error = _send(http, endpoint, bundle, settings.handover_push_timeout_s)
        _record(engine, settings, row_id, org, handover, error, now)
        if error is None:
            result.pushed.append(code)
        else:
            log.warning("handover push to %s for night %s failed: %s", code, night_day, error)
            result.failed.append(code)
    return result


class HandoverPusher:
    """Runs `push_due` every `handover_push_tick_s` off the event loop, when endpoints are configured."""

    def __init__(self, engine: Engine, settings: Settings, http: httpx.Client | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.http = http or httpx.Client(timeout=settings.handover_push_timeout_s)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.settings.handover_endpoints:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.http.close()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.handover_push_tick_s)
            try:
                await asyncio.to_thread(push_due, self.engine, self.settings, self.http)
            except Exception:
                log.exception("handover push pass failed")
