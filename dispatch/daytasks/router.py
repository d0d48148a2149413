from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from dispatch.apidoc import NOT_FOUND, link, links, refused, responses
from dispatch.audit import service as audit
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client
from dispatch.daytasks.models import DayTask
from dispatch.db import SessionDep
from dispatch.errors import Conflict, NotFound
from dispatch.timeutil import utcnow
from dispatch.validation import Moment

router = APIRouter(prefix="/api/day-tasks", tags=["day tasks"])
Readers = Annotated[Principal, roles(Role.partner, Role.coordinator, Role.operator)]
Closers = Annotated[Principal, roles(Role.partner, Role.coordinator)]


class DayTaskOut(BaseModel):
    id: int
    organisation_id: int
    client_id: int
    call_id: int | None
    summary: str
    advice_given: str
    state: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    client_name: str = Field(default="", description="the client's name, for the day team's list")


@router.get("", response_model=list[DayTaskOut], responses=links(
    200, "the tasks, newest first", MarkFirstDone=link("POST", "/api/day-tasks/{task_id}/done",
                                                       "the day team has done the newest task listed",
                                                       task_id="$response.body#/0/id")))
def list_tasks(session: SessionDep, principal: Readers,
               state: Annotated[Literal["open", "done"] | None, Query()] = None,
               since: Moment | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[DayTaskOut]:
    """Care deferred to the day teams; a partner sees its own organisation's tasks."""
    stmt = select(DayTask)
    if principal.role == Role.partner:
        stmt = stmt.where(DayTask.organisation_id == principal.organisation_id)
    if state:
        stmt = stmt.where(DayTask.state == state)
    if since:
        stmt = stmt.where(DayTask.created_at >= since)
    tasks = list(session.exec(stmt.order_by(col(DayTask.created_at).desc()).limit(limit)))
    if tasks:
        audit.record(session, principal, action="list", data="day_task", client_ids=[t.client_id for t in tasks],
                     reason="day-team handover")
    names = {c.id: f"{c.given_name} {c.family_name}" for c in session.exec(
        select(Client).where(col(Client.id).in_({t.client_id for t in tasks})))} if tasks else {}
    return [DayTaskOut(**t.model_dump(), client_name=names.get(t.client_id, "")) for t in tasks]


@router.post("/{task_id}/done", response_model=DayTaskOut, responses=responses(
    NOT_FOUND, refused(409, "the task was done already")))
def mark_done(task_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
              principal: Closers) -> DayTask:
    task = session.get(DayTask, task_id)
    if task is None or (principal.role == Role.partner and task.organisation_id != principal.organisation_id):
        raise NotFound(f"no day task {task_id}", field="task_id")
    if task.state == "done":
        raise Conflict(f"day task {task_id} was already done by {task.done_by}", field="task_id")
    task.state, task.done_at, task.done_by = "done", utcnow(), principal.username
    session.add(task)
    audit.record(session, principal, action="update", data="day_task", client_ids=[task.client_id],
                 reason=f"day task {task.id} done")
    return task
