from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class AuditEntry(SQLModel, table=True):
    """One access to client data (NEN 7513). Append-only: the database refuses UPDATE and DELETE.

    Hash-chained (dispatch/audit/chain.py): seq, prev_hash and hash are set when the entry is written,
    in the writing transaction (dispatch/audit/service.py); `nightcare audit verify` checks the chain."""

    __tablename__ = "audit_entries"

    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = Field(default=None, nullable=False, unique=True, index=True)
    at: datetime = utc_field(now=True, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str = Field(max_length=80)
    role: str = Field(max_length=20)
    organisation_id: int | None = None
    on_behalf_of: str = Field(default="", max_length=200)
    client_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=40)  # read | list | create | update | reveal | ...
    data: str = Field(max_length=200)  # which data, e.g. "client.summary", "call"
    reason: str = Field(default="", max_length=1000)  # call/job id or break-glass reason
    break_glass: bool = False
    outcome: str = Field(default="allowed", max_length=10)  # allowed | denied
    source_address: str = Field(default="", max_length=64)
    prev_hash: str | None = Field(default=None, nullable=False, max_length=64)
    hash: str | None = Field(default=None, nullable=False, max_length=64)
