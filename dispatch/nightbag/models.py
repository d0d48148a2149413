"""The standard night bag: a template of items, the check at the start of each shift, materials used."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class BagItem(SQLModel, table=True):
    """One line of the region's night-bag template."""

    __tablename__ = "bag_items"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: str = Field(default="material", max_length=10)  # material | device (devices need calibration)
    quantity: int = 1  # how many the bag holds
    active: bool = True
    # Remembered from the last bag check that gave them (or set by a coordinator), and offered in the next check:
    # a device's next calibration date and the item's expiry date. One value per line of the region's bag.
    calibration_due: date | None = None
    expires_on: date | None = None


class BagCheck(SQLModel, table=True):
    """A nurse's check of her bag at the start of a shift, with what it flagged."""

    __tablename__ = "bag_checks"

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shifts.id", index=True)
    nurse_id: int = Field(foreign_key="nurses.id")
    at: datetime = utc_field(now=True)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flags: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MaterialUse(SQLModel, table=True):
    """Materials a nurse used on a visit (what the morning restock replaces)."""

    __tablename__ = "materials_used"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    item_id: int = Field(foreign_key="bag_items.id")
    quantity: int
    recorded_by: str = Field(max_length=80)
    at: datetime = utc_field(now=True, index=True)


