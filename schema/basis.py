"""Time travel: the valid day and record position a field answers on, and how it is echoed."""

from __future__ import annotations

from datetime import date, datetime

from projections.queries.basis import Basis
from schema.context import Info
from schema.errors import bad_input


async def basis_for(
    info: Info,
    as_of: date | None,
    known_at: datetime | None,
    at_position: int | None = None,
    inherited: Basis | None = None,
) -> Basis:
    """A field's basis: its own arguments where given, else what its parent answered on."""
    base = inherited or Basis()
    position = at_position
    if at_position is not None:
        if known_at is not None:
            raise bad_input("give knownAt or atPosition, not both: each names a record time")
        head = await info.context.head()
        if not 0 <= at_position <= head:
            raise bad_input(f"atPosition {at_position} is not in the log: it runs from 0 to {head}")
    if known_at is not None:
        position = await info.context.services.store.position_at(known_at)
    return Basis(
        as_of=as_of if as_of is not None else base.as_of,
        position=position if position is not None else base.position,
    )


def check_range(start: date | None, end: date | None) -> None:
    """Refuse a day range that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise bad_input(f"the range ends ({end}) before it starts ({start})")


async def root_basis(
    info: Info, as_of: date | None, known_at: datetime | None, at_position: int | None = None
) -> Basis:
    """The basis of a root field, echoed in the response's `extensions.basis`."""
    basis = await basis_for(info, as_of, known_at, at_position)
    head = await info.context.head()
    info.context.operation.bases[str(info.path.key)] = {
        "asOf": basis.as_of.isoformat() if basis.as_of else None,
        "knownAt": known_at.isoformat() if known_at else None,
        "position": min(basis.position, head) if basis.position is not None else head,
    }
    return basis
