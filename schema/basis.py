"""Time travel: the valid time and record position a field answers on, and how it is echoed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from events.dates import PartialDate
from projections.queries.basis import Basis
from schema.context import Info
from schema.errors import bad_input


@dataclass(frozen=True)
class When:
    """A field's time arguments: a day (`asOf`) or a period (`during`) in valid time, and a
    record time (`knownAt`) or log position (`atPosition`)."""

    as_of: date | None = None
    during: PartialDate | None = None
    known_at: datetime | None = None
    at_position: int | None = None


async def basis_for(info: Info, when: When, inherited: Basis | None = None) -> Basis:
    """A field's basis: its own arguments where given, else what its parent answered on."""
    base = inherited or Basis()
    if when.as_of is not None and when.during is not None:
        raise bad_input("give asOf (one day) or during (a period), not both")
    if when.during is not None and not when.during.known:
        raise bad_input('during needs a year, a month or a day ("2007", "2007-06"), not unknown')
    position = when.at_position
    if when.at_position is not None:
        if when.known_at is not None:
            raise bad_input("give knownAt or atPosition, not both: each names a record time")
        head = await info.context.head()
        if not 0 <= when.at_position <= head:
            raise bad_input(
                f"atPosition {when.at_position} is not in the log: it runs from 0 to {head}"
            )
    if when.known_at is not None:
        position = await info.context.services.store.position_at(when.known_at)
    own_valid_time = when.as_of is not None or when.during is not None
    return Basis(
        as_of=when.as_of if own_valid_time else base.as_of,
        during=when.during if own_valid_time else base.during,
        position=position if position is not None else base.position,
    )


def check_range(start: date | None, end: date | None) -> None:
    """Refuse a day range that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise bad_input(f"the range ends ({end}) before it starts ({start})")


async def root_basis(info: Info, when: When) -> Basis:
    """The basis of a root field, echoed in the response's `extensions.basis`."""
    basis = await basis_for(info, when)
    head = await info.context.head()
    info.context.operation.bases[str(info.path.key)] = {
        "asOf": basis.as_of.isoformat() if basis.as_of else None,
        "during": str(basis.during) if basis.during else None,
        "knownAt": when.known_at.isoformat() if when.known_at else None,
        "position": min(basis.position, head) if basis.position is not None else head,
    }
    return basis
