"""Input types shared by the API schemas: bounded, printable text and phone numbers."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import phonenumbers
from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    AwareDatetime,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# NUL and other control characters (except tab/newline) are refused: PostgreSQL cannot store NUL,
# and nothing a person types contains them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


@dataclass(frozen=True)
class Documented:
    """Adds keywords to a type's JSON Schema (so OpenAPI states a rule a validator enforces) without changing how
    the value is validated: pydantic's own `pattern` runs on Rust's regex engine, which has no lone surrogates."""

    keywords: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(dict(self.keywords))
        return schema


def documented(**keywords: Any) -> Documented:
    return Documented(tuple(keywords.items()))


def not_null(*names: str) -> Any:
    """A model's json_schema_extra: these optional fields may be left out but not sent as null (a PATCH whose
    service refuses to clear them), so their schema drops the null that `X | None = None` puts there."""

    def extra(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            options = [o for o in prop.pop("anyOf", []) if o != {"type": "null"}]
            if len(options) == 1:
                prop.update(options[0])
            elif options:
                prop["anyOf"] = options
            if prop.get("default", ...) is None:
                del prop["default"]

    return extra


# The same rules as _CONTROL and strip_whitespace, as patterns (ECMA 262 and Python read them alike): no control
# character; and, where text is required, as many characters that are not white space as its minimum length
# (text is stripped first; for a minimum above 1 the pattern is stricter than the API: "a b" has length 3).
# Lone surrogates, which _CONTROL refuses too, are left out: UTF-8 cannot carry them, and regex engines that
# work on code points (Rust's, which schemathesis and many validators use) cannot name them.
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_SOLID = r"[^\s\x85\x00-\x1f\x7f]"
PRINTABLE = rf"^{_ALLOWED}*$"


def not_blank(min_length: int = 1) -> str:
    """The pattern of text without control characters that keeps min_length characters once stripped."""
    return rf"^{_ALLOWED}*" + rf"{_SOLID}{_ALLOWED}*" * min_length + "$"


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """Bounded, printable, stripped text: `Annotated[str, Text(80, 1)]` (a form mypy reads as a type). Its
    schema states the rules as a pattern (see not_blank)."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_printable)
        yield documented(pattern=not_blank(self.min_length) if self.min_length else PRINTABLE)


Name = Annotated[str, Text(100, 1)]
ShortText = Annotated[str, Text(200)]
LongText = Annotated[str, Text(4000)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


def normalise_phone(raw: str, region: str = "NL") -> str | None:
    """E.164 for a parseable, possible number; None otherwise (an unknown caller id is not an error)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid_phone(value: str) -> str:
    value = _printable(value.strip())
    normalised = normalise_phone(value)
    if normalised is None:
        raise ValueError("is not a valid phone number")
    return normalised


# The schema vouches for Dutch numbers, national or international (+31), with optional spaces or dashes; the API
# also takes any number the phonenumbers library deems possible (e.g. +49 …), which no pattern can state.
PHONE_PATTERN = r"^(\+31|0)[ -]?[1-9]([ -]?[0-9]){8}$"
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_valid_phone),
                  documented(pattern=PHONE_PATTERN, examples=["+31592123456", "0592 123 456"])]

# Named text types, so schemas never call a factory inside an annotation.
Ref = Annotated[str, Text(120, 1)]  # a source system's own id
SystemName = Annotated[str, Text(60, 1)]
ExternalValue = Annotated[str, Text(100, 1)]
Skill = Annotated[str, Text(40, 1)]
Street = Annotated[str, Text(200, 1)]
HouseNumber = Annotated[str, Text(20, 1)]
Postcode = Annotated[str, Text(10, 1)]
City = Annotated[str, Text(100, 1)]
KeysafeCode = Annotated[str, Text(40, 1)]
RawPhone = Annotated[str, Text(40)]
StateName = Annotated[str, Text(20, 1)]
Contact = Annotated[str, Text(200, 2)]  # who was spoken to


EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
# The year is checked as written (before the offset is applied), so that JSON Schema can state the range. The
# pattern spells out RFC 3339 as the service reads it, for generators that draw from it: years 1900-2199, the
# days of each month (the 29th of February, valid in leap years, is left out: a pattern cannot tell leap years),
# up to microseconds, an offset below 24 hours.
_DAY = r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
MOMENT_PATTERN = (rf"^(19|20|21)[0-9]{{2}}-{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?"
                  r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


def _moment(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must lie between {EARLIEST_YEAR} and {LATEST_YEAR + 1}")
    return value.astimezone(UTC)  # within those years any offset stays inside datetime's range


# A moment in time: with its UTC offset (a naive time is refused, naming the field), written in the years
# 1900-2199, returned in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_moment), documented(pattern=MOMENT_PATTERN)]
