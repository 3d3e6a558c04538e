"""Scalars of the cooperation record: partial dates go out as the precision the source gave."""

from __future__ import annotations

from typing import Any

import strawberry

from events.dates import PartialDate


def _parse(value: Any) -> PartialDate:
    try:
        return PartialDate.parse(value)
    except ValueError as error:
        raise ValueError(f"PartialDate: {error}") from None


PARTIAL_DATE = strawberry.scalar(
    name="PartialDate",
    description='A date at the precision the source gave: "2006", "2009-05", "2020-12-01",'
    ' or "unknown".',
    serialize=str,
    parse_value=_parse,
)

SCALARS: dict[object, Any] = {PartialDate: PARTIAL_DATE}


def partial_date(text: str | None) -> PartialDate | None:
    """A stored date text as the scalar's value (None stays None)."""
    return None if text is None else PartialDate.parse(text)
