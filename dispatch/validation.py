"""Input types shared by the API schemas: bounded, printable text and phone numbers."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, AwareDatetime, StringConstraints

# NUL and other control characters (except tab/newline) are refused: PostgreSQL cannot store NUL,
# and nothing a person types contains them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def text(max_length: int, min_length: int = 0):
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_printable),
    ]


Name = text(100, 1)
ShortText = text(200)
LongText = text(4000)
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
Ref = text(120, 1)  # a source system's own id
SystemName = text(60, 1)
ExternalValue = text(100, 1)
Skill = text(40, 1)
Street = text(200, 1)
HouseNumber = text(20, 1)
Postcode = text(10, 1)
City = text(100, 1)
KeysafeCode = text(40, 1)
RawPhone = text(40)
StateName = text(20, 1)


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
