"""The API reference pages, /docs (Swagger UI) and /redoc (ReDoc), served with their assets from this service.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and stay blank without internet. Here the scripts and
the style sheet come from the `fastapi-offline` package on PyPI (pinned with hashes in requirements.lock), served
at /docs/assets/; the pages load nothing from elsewhere (no Google fonts either), and their content security
policy says so to the browser: ReDoc's sidebar would otherwise fetch its maker's logo from the internet.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
FAVICON = "/nurse/icon.svg"


def assets_dir() -> Path:
    """Where the installed package keeps swagger-ui-bundle.js, swagger-ui.css and redoc.standalone.js."""
    return Path(str(files("fastapi_offline") / "static"))


def _inline_script_hashes(html: str) -> str:
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                    for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL))


def with_csp(page: HTMLResponse) -> HTMLResponse:
    """The page under a policy of its own: scripts, styles, images and connections from this service only (the
    page's inline scripts by their hash; inline styles, which both UIs set; ReDoc's search runs in a blob worker)."""
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {_inline_script_hashes(html)}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return page


def mount_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs (its Authorize button logs in with the OAuth2 password form) and ReDoc at /redoc.

    The app is made with `docs_url=None, redoc_url=None`, so FastAPI adds no CDN pages of its own."""
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="api-docs-assets")

    swagger_ui = _served(get_swagger_ui_html(
        openapi_url=openapi_url, title=title, oauth2_redirect_url=OAUTH2_REDIRECT,
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=FAVICON, init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=app.swagger_ui_parameters))
    redoc = _served(get_redoc_html(openapi_url=openapi_url, title=title, redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                                   redoc_favicon_url=FAVICON, with_google_fonts=False))
    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(OAUTH2_REDIRECT, _served(get_swagger_ui_oauth2_redirect_html()), methods=["GET"],
                      include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def _served(page: HTMLResponse) -> Callable[[], HTMLResponse]:
    """The page is the same for every request: rendered and hashed once, answered as a fresh response."""
    page = with_csp(page)
    body, csp = bytes(page.body), page.headers["Content-Security-Policy"]

    def serve() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    return serve
