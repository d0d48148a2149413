"""Input types shared by the API schemas: bounded, printable text and phone numbers."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import phonenumbers
from annotated_types import GroupedMetadata
from pydantic import AfterValidator, AwareDatetime, StringConstraints

# NUL and other control characters (except tab/newline) are refused: PostgreSQL cannot store NUL,
# and nothing a person types contains them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """Bounded, printable, stripped text: `Annotated[str, Text(80, 1)]` (a form mypy reads as a type)."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_printable)


def text(max_length: int, min_length: int = 0) -> Any:
    """The same type built at run time; mypy cannot use it as an annotation: prefer `Annotated[str, Text(...)]`."""
    return Annotated[str, Text(max_length, min_length)]


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


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_valid_phone)]

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


EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _moment(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 lies before the first representable moment in UTC
        raise ValueError("is out of range") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie between {EARLIEST.year} and {LATEST.year}")
    return value


# A moment in time: with its UTC offset (a naive time is refused, naming the field), within a sane range, in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
