"""Checks every rule shares: keys, text, vocabularies, date order, and corrections."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from domain.commands import Correction
from domain.errors import ValidationError
from events.dates import PartialDate, Period

KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_KEY = 60
MAX_TEXT = 2000
T = TypeVar("T")


def check_key(what: str, key: str) -> str:
    if len(key) > MAX_KEY or not KEY.fullmatch(key):
        raise ValidationError(
            f"{what} key {key!r} is not valid: use up to {MAX_KEY} lowercase letters, digits"
            " and single hyphens, like 'los-angeles'"
        )
    return key


def check_text(what: str, value: str) -> str:
    """Required text: not blank, not overlong; surrounding spaces are dropped."""
    text = value.strip()
    if not text:
        raise ValidationError(f"{what} must not be empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{what} is {len(text)} characters long; the limit is {MAX_TEXT}")
    return text


def check_reason(reason: str | None) -> str:
    """A retraction must say why the fact was recorded in error."""
    if reason is None or not reason.strip():
        raise ValidationError("a retraction needs a reason: say why the fact was recorded in error")
    return check_text("reason", reason)


def optional_text(what: str, value: str | None) -> str | None:
    return None if value is None else check_text(what, value)


def check_texts(what: str, values: Sequence[str]) -> list[str]:
    texts = [check_text(what, value) for value in values]
    if len(set(texts)) != len(texts):
        raise ValidationError(f"{what} lists the same entry twice")
    return texts


def check_choice(what: str, value: str, choices: type[StrEnum]) -> str:
    """`value` if it is one of the enum's values (kept as text, as events store it)."""
    if value not in choices.__members__.values():
        raise ValidationError(f"{what} {value!r} is not known; use one of {', '.join(choices)}")
    return str(value)


def optional_choice(what: str, value: str | None, choices: type[StrEnum]) -> str | None:
    return None if value is None else check_choice(what, value, choices)


def describe(period: Period) -> str:
    """'from 2006 with no end', 'from 2006 to 2010', 'from an unknown date to 2010'."""
    if period.until is None:
        return f"from {date_text(period.since)} with no end"
    return f"from {date_text(period.since)} to {date_text(period.until)}"


def date_text(day: PartialDate) -> str:
    return str(day) if day.known else "an unknown date"


def check_order(what: str, since: PartialDate, until: PartialDate | None) -> None:
    """Refuse an end the dates show to be certainly before the start; keep what they cannot."""
    if Period(since, until).ends_before_start() is True:
        raise ValidationError(f"{what} would end ({until}) before it starts ({since})")


def could_hold_on(period: Period, day: PartialDate) -> bool:
    """Could the period have held on some day `day` may mean? False only when certainly not."""
    before_start = day.before(period.since) is True
    after_end = period.until is not None and period.until.before(day) is True
    return not (before_start or after_end)


def check_on_or_after(what: str, day: PartialDate, earliest: PartialDate, of: str) -> None:
    if day.before(earliest) is True:
        raise ValidationError(f"{what} ({day}) is before {of} ({earliest})")


def corrected(
    current: Any, correction: Correction, names: Sequence[str], optional: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """The values after a correction, and which of them it changes.

    `names` are the fields the correction may set (same names on the command and on the
    current state); `optional` are those `clear` may empty.
    """
    unknown = sorted(set(correction.clear) - set(optional))
    if unknown:
        raise ValidationError(
            f"cannot clear {', '.join(unknown)}: only {', '.join(sorted(optional))} can be cleared"
        )
    values = {name: getattr(current, name) for name in names}
    for name in names:
        given = getattr(correction, name)
        if name in correction.clear:
            if given is not None:
                raise ValidationError(f"{name} is both given and cleared; do one")
            values[name] = [] if isinstance(values[name], list) else None
        elif given is not None:
            values[name] = given
    changed = [name for name in names if values[name] != getattr(current, name)]
    if not changed:
        raise ValidationError("nothing would change: give at least one new value")
    return values, changed


def replace(state: T, **changes: Any) -> T:
    return dataclasses.replace(state, **changes)  # type: ignore[type-var]
