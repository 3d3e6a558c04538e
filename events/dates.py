"""Dates as the record knows them: a year, a month, a day, or not known at all.

A partial date stands for the span of days it may mean ("2006" is any day of 2006).
Comparisons answer True, False, or None when the record cannot tell.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Precision = Literal["unknown", "year", "month", "day"]
_FORM = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

EARLIEST = date.min
LATEST = date.max


class PartialDate:
    """A date at the precision the source gave. `PartialDate()` is an unknown date.

    A plain immutable class rather than a dataclass, so serialisers treat it as one value
    (its text form) instead of an object with fields.
    """

    __slots__ = ("day", "month", "year")

    year: int | None
    month: int | None
    day: int | None

    def __init__(self, year: int | None = None, month: int | None = None, day: int | None = None):
        if year is None and (month is not None or day is not None):
            raise ValueError("a month or day needs a year")
        if month is None and day is not None:
            raise ValueError("a day needs a month")
        if year is not None:
            date(year, month or 1, day or 1)  # raises on an impossible date
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "month", month)
        object.__setattr__(self, "day", day)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PartialDate is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return (self.year, self.month, self.day) == (other.year, other.month, other.day)

    def __hash__(self) -> int:
        return hash((self.year, self.month, self.day))

    def __repr__(self) -> str:
        return f"PartialDate({str(self)!r})"

    @classmethod
    def parse(cls, text: object) -> PartialDate:
        """Read "2006", "2009-05", "2020-12-01" or "unknown"."""
        if isinstance(text, PartialDate):
            return text
        if isinstance(text, date):
            return cls(text.year, text.month, text.day)
        if text == "unknown":
            return cls()
        match = _FORM.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"{text!r} is not a date: write YYYY, YYYY-MM, YYYY-MM-DD or 'unknown'"
            )
        year, month, day = (int(part) if part else None for part in match.groups())
        try:
            return cls(year, month, day)
        except ValueError:
            raise ValueError(f"{text!r} is not a date that exists") from None

    @classmethod
    def unknown(cls) -> PartialDate:
        return cls()

    @property
    def precision(self) -> Precision:
        if self.year is None:
            return "unknown"
        if self.month is None:
            return "year"
        return "month" if self.day is None else "day"

    @property
    def known(self) -> bool:
        return self.year is not None

    @property
    def earliest(self) -> date:
        """The first day this date may mean (date.min when unknown)."""
        if self.year is None:
            return EARLIEST
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        """The last day this date may mean (date.max when unknown)."""
        if self.year is None:
            return LATEST
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return date(self.year, month, day)

    def __str__(self) -> str:
        if self.year is None:
            return "unknown"
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def before(self, other: PartialDate) -> bool | None:
        """Is every day this may mean before every day `other` may mean? None: cannot tell."""
        if self.latest < other.earliest:
            return True
        if self.earliest >= other.latest:
            return False
        return None

    def on_or_before(self, day: date) -> bool | None:
        if self.latest <= day:
            return True
        if self.earliest > day:
            return False
        return None

    def on_or_after(self, day: date) -> bool | None:
        if self.earliest >= day:
            return True
        if self.latest < day:
            return False
        return None


def all_of(*answers: bool | None) -> bool | None:
    """Three-valued AND: False wins, then None (cannot tell), else True."""
    if any(answer is False for answer in answers):
        return False
    return None if any(answer is None for answer in answers) else True


@dataclass(frozen=True)
class Period:
    """From `since` to `until`, both days included; an open period has no `until`."""

    since: PartialDate
    until: PartialDate | None = None

    def holds_on(self, day: date) -> bool | None:
        """Did the period hold on `day`? None when the dates cannot tell."""
        return all_of(
            self.since.on_or_before(day),
            True if self.until is None else self.until.on_or_after(day),
        )

    def ends_before_start(self) -> bool | None:
        """Is the end before the start? None when the precision cannot tell."""
        return False if self.until is None else self.until.before(self.since)

    def overlaps(self, other: Period) -> bool | None:
        """Do the two periods share a day? None when the precision cannot tell."""
        apart = [
            self.until is not None and self.until.before(other.since),
            other.until is not None and other.until.before(self.since),
        ]
        if any(side is True for side in apart):
            return False
        if all(side is False for side in apart):
            return True
        return None
