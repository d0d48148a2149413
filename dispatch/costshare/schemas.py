from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from dispatch.validation import Code, ShortText

Month = Annotated[str, StringConstraints(pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$")]  # years as Moment
# Euros with at most two decimals: a whole number, or a decimal string (a JSON number with decimals, e.g. 12.5, is
# taken too, but JSON Schema's multipleOf on binary floats would promise values like 0.57000000000000001).
Money = Annotated[Decimal, Field(gt=0, le=10_000_000, decimal_places=2), WithJsonSchema({"anyOf": [
    {"type": "integer", "minimum": 1, "maximum": 10_000_000},
    {"type": "string", "pattern": r"^([1-9][0-9]{0,6}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"}]})]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]
Weight = Annotated[Decimal, Field(le=1_000_000, decimal_places=4)]  # ≥ 0 is checked by the service (names the key)


class AgreementIn(BaseModel):
    first_month: Month = Field(description="first month of the period, YYYY-MM")
    last_month: Month | None = Field(default=None, description="last month (included); none: until further notice")
    runner: Code = Field(description="code of the organisation that runs the night team and bears its cost")
    monthly_cost_eur: Money
    model: str = Field(description="fixed | clients | calls | visits | care_minutes | travel_minutes | mix")
    shares: dict[Code, Percent] = Field(default_factory=dict, description="fixed: percent per organisation code")
    weights: dict[str, Weight] = Field(default_factory=dict, description="mix: weight per basis (≥ 0)")
    participants: list[Code] | None = Field(default=None, max_length=200,
                                            description="organisation codes taking part (default: all)")
    note: ShortText = ""


class AgreementOut(BaseModel):
    id: int
    first_month: str
    last_month: str | None
    runner: str | None
    monthly_cost_eur: str
    model: str
    weights: dict[str, str]
    shares: dict[str, str]
    participants: list[str]
    note: str
    created_by: str
    created_at: str
