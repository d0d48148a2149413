"""A triage run is kept in two places: the work in progress in `triage_drafts`, what was decided in `triages`.

A run keeps one id from its start to its decision: the decided record takes its draft's id (drafts never
reuse an id: SQLite AUTOINCREMENT, a PostgreSQL sequence), and the draft is deleted in the same transaction.
`triages` is append-only (the database refuses UPDATE and DELETE); whether a run is superseded is not
stored but derived: a later run of the same call exists (dispatch/triage/runs.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class TriageDraft(SQLModel, table=True):
    """A run of the protocol in progress: the answers so far and the alarm signals, changed as the operator goes.

    A draft that is never decided (the call was moved on or cancelled by hand) stays, superseded by any later run."""

    __tablename__ = "triage_drafts"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    protocol_id: str = Field(max_length=80)
    protocol_version: int
    complaint: str = Field(max_length=80)
    answers: list[list[str]] = json_list_field()  # [[node, answer], ...] in order
    signals: list[str] = json_list_field()  # set by the operator or detected (second call)
    concern_reason: str = Field(default="", max_length=1000)  # the operator's concern raises the call to 112
    started_at: datetime = utc_field(now=True)
    started_by: str = Field(max_length=80)


class Triage(SQLModel, table=True):
    """What a run of the protocol decided, written once: protocol and version, every answer, the computed
    outcome, the final urgency and disposition with any override's reason, the advice, who and when."""

    __tablename__ = "triages"

    id: int | None = Field(default=None, primary_key=True)  # its draft's id, given explicitly
    call_id: int = Field(foreign_key="calls.id", index=True)
    protocol_id: str = Field(max_length=80)
    protocol_version: int
    complaint: str = Field(max_length=80)
    answers: list[list[str]] = json_list_field()  # [[node, answer], ...] in order
    signals: list[str] = json_list_field()
    computed: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the protocol's outcome and trace
    final_urgency: str = Field(max_length=2)
    final_disposition: str = Field(max_length=20)
    override_reason: str = Field(default="", max_length=1000)
    concern_reason: str = Field(default="", max_length=1000)
    advice_given: str = Field(default="", max_length=4000)
    # How the protocol was followed: questions answered (ABCD included), questions skipped by deciding before the
    # protocol reached an outcome (the fewest still to answer), "don't know" answers.
    questions_asked: int = 0
    questions_skipped: int = 0
    dont_know: int = 0
    started_at: datetime = utc_field()
    started_by: str = Field(max_length=80)
    decided_at: datetime = utc_field(now=True)
    decided_by: str = Field(max_length=80)


class GpNotification(SQLModel, table=True):
    """What the GP out-of-hours post was told about a triaged call (an outcome that involves it), written once."""

    __tablename__ = "gp_notifications"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    triage_id: int = Field(index=True)
    client_id: int | None = Field(default=None, foreign_key="clients.id", index=True)
    text: str = Field(max_length=8000)
    created_at: datetime = utc_field(now=True)
    created_by: str = Field(max_length=80)
