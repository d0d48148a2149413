"""Pages served by the service. They talk to it only through its public HTTP and websocket API.

    /            the home page: what is where
    /nurse/      the night nurse's phone app (installable, works offline)
    /console/    the operators' console: the live board, taking and triaging calls, following the night
    /partner/    the partner organisations' portal: the night's handover, day tasks, clients, access log, cost share
    /insight/    the regional coordinator's figures: response times per urgency, calls per hour and organisation
    /vendor/     browser libraries installed from the npm registry by `make` (web/package.json): never a CDN
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).parent / "node_modules"
# What the pages load from npm packages: URL path → folder in node_modules.
VENDOR = {"leaflet": "leaflet/dist", "chart.js": "chart.js/dist"}


def mount_web(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/static/home.css", include_in_schema=False)
    def home_css() -> FileResponse:
        return FileResponse(STATIC / "home.css", media_type="text/css")

    @app.get("/nurse", include_in_schema=False)
    @app.get("/nurse/", include_in_schema=False)
    def nurse_app() -> FileResponse:
        return FileResponse(STATIC / "nurse" / "index.html")

    @app.get("/console", include_in_schema=False)
    @app.get("/console/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "console" / "index.html")

    @app.get("/partner", include_in_schema=False)
    @app.get("/partner/", include_in_schema=False)
    def partner_portal() -> FileResponse:
        return FileResponse(STATIC / "partner" / "index.html")

    @app.get("/insight", include_in_schema=False)
    @app.get("/insight/", include_in_schema=False)
    def insight() -> FileResponse:
        return FileResponse(STATIC / "insight" / "index.html")

    # The nurse app's files; the service worker is served from /nurse/ so that its scope covers the app.
    app.mount("/nurse", StaticFiles(directory=STATIC / "nurse"), name="nurse")
    app.mount("/console", StaticFiles(directory=STATIC / "console"), name="console")
    app.mount("/partner", StaticFiles(directory=STATIC / "partner"), name="partner")
    app.mount("/insight", StaticFiles(directory=STATIC / "insight"), name="insight")
    for name, folder in VENDOR.items():
        # Absent until `make` has run npm: the console then works without its map, insight without its charts (and
        # both say so).
        app.mount(f"/vendor/{name}", StaticFiles(directory=NODE_MODULES / folder, check_dir=False),
                  name=f"vendor-{name}")
