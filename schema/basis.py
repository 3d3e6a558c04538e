"""Time travel: the valid day and record position a field answers on, and how it is echoed."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from projections.queries.basis import Basis
from schema.context import Info

# The bases this operation's root fields answered on, by response key. Per operation, not
# per context: a WebSocket connection's operations share one context.
_echoed: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar("coop_bases", default=None)


def echo_bases() -> dict[str, dict[str, Any]]:
    """Start collecting the bases of the operation now running (in this task)."""
    bases: dict[str, dict[str, Any]] = {}
    _echoed.set(bases)
    return bases


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
    if known_at is not None:
        position = await info.context.services.store.position_at(known_at)
    return Basis(
        as_of=as_of if as_of is not None else base.as_of,
        position=position if position is not None else base.position,
    )


async def root_basis(
    info: Info, as_of: date | None, known_at: datetime | None, at_position: int | None = None
) -> Basis:
    """The basis of a root field, echoed in the response's `extensions.basis`."""
    basis = await basis_for(info, as_of, known_at, at_position)
    head = await info.context.head()
    bases = _echoed.get()
    if bases is not None:
        bases[str(info.path.key)] = {
            "asOf": basis.as_of.isoformat() if basis.as_of else None,
            "knownAt": known_at.isoformat() if known_at else None,
            "position": min(basis.position, head) if basis.position is not None else head,
        }
    return basis
