from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class RecordSummaryCache(SQLModel, table=True):
    """A summary fetched tonight, Fernet-encrypted (the key-safe key), reused until `expires_at` (the morning)."""

    __tablename__ = "record_summaries"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", unique=True)
    source: str = Field(max_length=200)
    fetched_at: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)
    summary_encrypted: str
