"""Pages served by the service. They talk to it only through its public HTTP and websocket API."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


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

    # The nurse app's files; the service worker is served from /nurse/ so that its scope covers the app.
    app.mount("/nurse", StaticFiles(directory=STATIC / "nurse"), name="nurse")
