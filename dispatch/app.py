"""The application factory: engines, adapters and routers wired from settings."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from adapters.fhir.sources import FhirSources
from adapters.geocoding import make_geocoder
from adapters.twilio_webhooks import router as twilio_router
from dispatch.alerts.router import router as alerts_router
from dispatch.assignment.replanner import Replanner
from dispatch.assignment.router import router as assignment_router
from dispatch.assignment.service import replan
from dispatch.audit.router import router as audit_router
from dispatch.auth.router import router as auth_router
from dispatch.auth.throttle import LoginGuard
from dispatch.board.night import router as night_router
from dispatch.board.router import router as board_router
from dispatch.board.router import tile_origin
from dispatch.calls.overflow import router as overflow_router
from dispatch.calls.router import router as calls_router
from dispatch.clients.import_router import router as client_import_router
from dispatch.clients.router import router as clients_router
from dispatch.concurrency import BodyLimit, RequestLimiter, SecurityHeaders
from dispatch.costshare.router import router as costshare_router
from dispatch.daytasks.router import router as daytasks_router
from dispatch.db import make_engine
from dispatch.errors import install_error_handlers
from dispatch.handover import html as handover_html
from dispatch.handover.push import HandoverPusher
from dispatch.handover.router import router as handover_router
from dispatch.heap import freeze_startup_objects
from dispatch.insight.router import router as insight_router
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.keysafes.router import router as keysafes_router
from dispatch.nightbag.router import router as nightbag_router
from dispatch.nurses.router import router as nurses_router
from dispatch.organisations.router import router as organisations_router
from dispatch.ports import Geocoder, NoSms, SmsSender
from dispatch.protocol_versions.router import router as protocols_router
from dispatch.protocol_versions.service import register_shipped
from dispatch.reactions import wire
from dispatch.records.router import router as records_router
from dispatch.records.service import purge_expired
from dispatch.reports.router import router as reports_router
from dispatch.responders.escalation import Escalator
from dispatch.responders.hub import Hub, PostgresListener, register
from dispatch.responders.live import router as live_router
from dispatch.settings import Settings
from dispatch.triage.contract import install as describe_protocol_in_openapi
from dispatch.triage.router import router as triage_router
from dispatch.visits.brief import router as brief_router
from dispatch.visits.observations import router as observations_router
from dispatch.visits.router import router as visits_router
from protocols import book
from web import mount_web

log = logging.getLogger("nightcare")


class TravelCache(dict):
    """Travel seconds between coordinate pairs, shared by every re-plan (clients do not move)."""

    LIMIT = 500_000

    def __setitem__(self, key, value) -> None:
        if len(self) >= self.LIMIT:
            self.clear()
        super().__setitem__(key, value)


def _replan(app: FastAPI, triggers: list[str]) -> None:
    replan(app.state.engine, app.state.settings, triggers=triggers, cache=app.state.travel_cache)


def sms_sender(settings: Settings, http_client: object | None = None) -> SmsSender:
    """Twilio when configured (the tests inject its HTTP client), otherwise none: escalation then alerts."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token.get_secret_value()):
        return NoSms()
    from adapters.twilio import TwilioSms

    return TwilioSms(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                     settings.twilio_from_number, http_client=http_client)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               sms: SmsSender | None = None, geocoder: Geocoder | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.start_clock()
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_engine:
            # Room for the live channel's own threads (responders/live.py) beside the request bound.
            app.state.engine = make_engine(settings.database_url, pool_size=settings.max_concurrent_requests + 8)
        app.state.reader_engine = (make_engine(settings.database_url, pool_size=4, reader=True)
                                   if settings.is_sqlite else app.state.engine)
        register_shipped(app.state.engine, settings)
        purge_expired(app.state.engine)  # summaries of a night gone by, when the service was down at its end
        app.state.hub.attach(asyncio.get_running_loop())
        register(app.state.engine, app.state.hub)
        wire(app.state.engine, replan=app.state.replanner.request)
        listener = None
        if not settings.is_sqlite:  # events reach the sockets held by every worker process
            listener = PostgresListener(settings.database_url, app.state.hub)
            await asyncio.to_thread(listener.start)
        escalator = Escalator(app.state.engine, settings, app.state.sms)
        await app.state.replanner.start()
        app.state.replanner.request("service started")  # the night as it stands gets a plan at once
        await escalator.start()
        pusher = HandoverPusher(app.state.engine, settings)
        await pusher.start()
        if settings.environment != "test":
            freeze_startup_objects()
        try:
            yield
        finally:
            await escalator.stop()
            await pusher.stop()
            await app.state.replanner.stop()
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            if app.state.reader_engine is not app.state.engine:
                app.state.reader_engine.dispose()
            if owns_engine:
                app.state.engine.dispose()

    app = FastAPI(
        title="nightcare",
        version="0.1.0",
        summary="Regional night-care dispatch and triage",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are served with their assets from this service (web/apidocs.py)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.cipher = KeysafeCipher(settings)
    app.state.travel_cache = TravelCache()
    app.state.replanner = Replanner(lambda triggers: _replan(app, triggers))
    app.state.hub = Hub()
    app.state.sms = sms or sms_sender(settings)
    app.state.geocoder = geocoder or make_geocoder(settings)
    app.state.login_guard = LoginGuard(settings)
    app.state.record_sources = FhirSources(settings)
    if engine is not None:
        app.state.engine = engine
    install_error_handlers(app)
    for router in (auth_router, organisations_router, client_import_router, clients_router, nurses_router,
                   calls_router, triage_router,
                   protocols_router, visits_router, observations_router, brief_router, keysafes_router,
                   daytasks_router, assignment_router, alerts_router, audit_router, nightbag_router, board_router,
                   night_router, overflow_router, reports_router, live_router, twilio_router, handover_router,
                   costshare_router, records_router, insight_router):
        app.include_router(router)
    if settings.environment != "production":  # the demo region's record systems (adapters/fhir/demo_server.py)
        from adapters.fhir.demo_server import router as demo_fhir_router

        app.include_router(demo_fhir_router)

    describe_protocol_in_openapi(app)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    mount_web(app)
    app.add_middleware(RequestLimiter, limit=settings.max_concurrent_requests, wait_s=settings.request_queue_wait_s,
                       prefixes=("/api", "/twilio"), exempt=("/api/auth/token",))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.tls, image_sources=(tile_origin(settings.map_tile_url),),
                       style_hashes=(book.STYLE_HASH, handover_html.STYLE_HASH))
    return app
