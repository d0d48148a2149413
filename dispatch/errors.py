"""Domain errors carry their HTTP status; one handler renders {error, detail, field}."""
from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("nightcare.errors")


class AppError(Exception):
    status = 400
    error = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra
        # Records to keep although the request fails (e.g. the audit entry of a refused access).
        # The session dependency rolls the request back, then commits these on their own.
        self.keep: list[Any] = []
        # Response headers that go with the error (e.g. Retry-After).
        self.headers: dict[str, str] = {}


class NotFound(AppError):
    status = 404
    error = "not_found"


class Conflict(AppError):
    status = 409
    error = "conflict"


class Forbidden(AppError):
    status = 403
    error = "forbidden"


class Unauthorized(AppError):
    status = 401
    error = "unauthorized"


class Invalid(AppError):
    status = 422
    error = "invalid"


class TooManyRequests(AppError):
    """429 with Retry-After in whole seconds (at least 1)."""

    status = 429
    error = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: float, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = max(1, math.ceil(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)


class ServiceUnavailable(AppError):
    status = 503
    error = "unavailable"


def error_body(error: str, detail: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error, "detail": detail, "field": field}
    body.update(extra)
    return body


def _field_from_loc(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return JSONResponse(
            error_body(exc.error, exc.detail, exc.field, **exc.extra), status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field_from_loc(tuple(first.get("loc", ())))
        detail = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
        problems = [
            {"field": _field_from_loc(e.get("loc", ())), "reason": e.get("msg")} for e in errors[:20]
        ]
        return JSONResponse(error_body("invalid", detail, field, problems=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden",
                 413: "too_large"}
        return JSONResponse(
            error_body(names.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    # Safety nets at the database boundary: input validation should catch these first. A constraint
    # that still fires means the data conflicts with what is stored (e.g. a concurrent write).
    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("constraint violation on %s %s (mapped to 409)", request.method, request.url.path)
        return JSONResponse(error_body("conflict", "the request conflicts with data already stored"),
                            status_code=409)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        log.warning("data error on %s %s (mapped to 422)", request.method, request.url.path)
        return JSONResponse(error_body("invalid", "a value is out of range or malformed for storage"),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never echo the exception: it may carry client data or secrets.
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__,
                  exc_info=exc)
        return JSONResponse(error_body("internal", "an internal error occurred; it has been logged"),
                            status_code=500)
