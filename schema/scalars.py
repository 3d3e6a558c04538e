"""Scalars of the cooperation record: partial dates go out as the precision the source gave,
and a day (`Date`) is a whole date, with a pointer to `during` for a year or a month."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import strawberry

from events.dates import PartialDate

_PARTIAL = re.compile(r"\d{4}(-\d{2})?")


def _parse(value: Any) -> PartialDate:
    try:
        return PartialDate.parse(value)
    except ValueError as error:
        raise ValueError(f"PartialDate: {error}") from None


def _parse_day(value: Any) -> date:
    if isinstance(value, str) and _PARTIAL.fullmatch(value):
        what = "a year" if len(value) == 4 else "a month"
        raise ValueError(
            f"{value!r} is {what}, not a day: this argument takes one day (YYYY-MM-DD); to ask"
            f' what held at some time in {what}, give `during: "{value}"` instead'
        )
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date: write YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a day that exists: write YYYY-MM-DD") from None


PARTIAL_DATE = strawberry.scalar(
    name="PartialDate",
    description='A date at the precision the source gave: "2006", "2009-05", "2020-12-01",'
    ' or "unknown".',
    serialize=str,
    parse_value=_parse,
)

DAY = strawberry.scalar(
    name="Date",
    description='One day, "2008-01-01". For a year or a month, collections take `during`.',
    serialize=date.isoformat,
    parse_value=_parse_day,
)

SCALARS: dict[object, Any] = {PartialDate: PARTIAL_DATE, date: DAY}


def partial_date(text: str | None) -> PartialDate | None:
    """A stored date text as the scalar's value (None stays None)."""
    return None if text is None else PartialDate.parse(text)
