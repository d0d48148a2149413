"""Pages served by the service. They talk to it only through its public HTTP and websocket API.

    /            the home page: what is where (the pages that exist, from web/pages.py)
    /nurse/      the night nurse's phone app (installable, works offline)
    /console/    the operators' console: the live board, taking and triaging calls, following the night
    /partner/    the partner organisations' portal: the night's handover, day tasks, clients, access log, cost share
    /insight/    the regional coordinator's figures: response times per urgency, calls per hour and organisation
    /<folder>/   every other page folder listed in web/pages.py, once web/static/<folder>/ exists
    /docs        the API reference (Swagger UI), /redoc the same as one document (ReDoc): web/apidocs.py
    /vendor/     browser libraries installed from the npm registry by `make` (web/package.json): never a CDN
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from web.apidocs import mount_api_docs
from web.pages import STATIC, available_pages, home_html

NODE_MODULES = Path(__file__).parent / "node_modules"
# What the pages load from npm packages: URL path → folder in node_modules.
VENDOR = {"leaflet": "leaflet/dist", "chart.js": "chart.js/dist"}


def _serve_index(app: FastAPI, folder: str) -> None:
    index = STATIC / folder / "index.html"

    def page() -> FileResponse:
        return FileResponse(index)

    app.add_api_route(f"/{folder}", page, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"/{folder}/", page, methods=["GET"], include_in_schema=False)


def mount_web(app: FastAPI) -> None:
    pages = available_pages()
    home = home_html(pages)

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(home)

    @app.get("/static/home.css", include_in_schema=False)
    def home_css() -> FileResponse:
        return FileResponse(STATIC / "home.css", media_type="text/css")

    # Each page folder: its index at /<folder>/ and its files beside it (the nurse app's service worker is
    # served from /nurse/ so that its scope covers the app).
    for folder in (p.folder for p in pages if p.folder):
        _serve_index(app, folder)
        app.mount(f"/{folder}", StaticFiles(directory=STATIC / folder), name=folder)
    mount_api_docs(app)
    for name, folder in VENDOR.items():
        # Absent until `make` has run npm: the console then works without its map, insight without its charts (and
        # both say so).
        app.mount(f"/vendor/{name}", StaticFiles(directory=NODE_MODULES / folder, check_dir=False),
                  name=f"vendor-{name}")
