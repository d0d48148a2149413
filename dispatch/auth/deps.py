"""FastAPI dependencies: the current principal and role requirements."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from dispatch.auth.models import Role, Team
from dispatch.auth.service import Principal, principal_for_token
from dispatch.auth.throttle import LoginGuard
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def source_address(request: Request) -> str:
    settings = request.app.state.settings
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else ""


async def _login_guard(request: Request) -> LoginGuard:  # async: no threadpool hop
    return request.app.state.login_guard


LoginGuardDep = Annotated[LoginGuard, Depends(_login_guard)]


def current_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("missing bearer token: log in at /api/auth/token")
    return principal_for_token(session, token, source_address=source_address(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal, scope="function")]


def roles(*allowed: Role) -> Any:
    """The dependency that lets only these roles through: `Annotated[Principal, roles(Role.nurse)]`."""
    names = ", ".join(r.value for r in allowed)

    def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"this needs one of the roles: {names} (you are {principal.role.value})")
        return principal

    return Depends(_check, scope="function")


def require(*allowed: Role) -> Any:
    """The same as a type built at run time; mypy cannot use it as an annotation: prefer
    `Annotated[Principal, roles(...)]`."""
    return Annotated[Principal, roles(*allowed)]


Operators = Annotated[Principal, roles(Role.operator, Role.coordinator)]
Coordinators = Annotated[Principal, roles(Role.coordinator)]


def _regional(principal: Operators) -> Principal:
    if principal.team != Team.regional:
        raise Forbidden("the backup triage team takes the calls handed to it; following the night (plans, "
                        "nurses, alerts) is the regional team's")
    return principal


# Operators of the region's own team, and coordinators: who follow the whole night (decisions with every client's
# home, the nurses, the alerts). The backup triage team sees the calls handed to it.
RegionalOperators = Annotated[Principal, Depends(_regional, scope="function")]
