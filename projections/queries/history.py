"""History and change: every version behind an object, and what changed between two points."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import Select, Table, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.vocabulary import ObjectKind
from events.tables import events
from projections.models.activities import activities
from projections.models.commitments import commitments
from projections.models.memberships import memberships
from projections.models.partners import partners
from projections.models.programs import program_partners, programs
from projections.models.roles import bodies, roles
from projections.models.sources import sources
from projections.queries.basis import Basis, Row, plain

# The tables whose versions have a history worth showing, by the kind of object they hold.
HISTORIES: dict[ObjectKind, Table] = {
    ObjectKind.PARTNER: partners,
    ObjectKind.MEMBERSHIP: memberships,
    ObjectKind.ROLE: roles,
    ObjectKind.BODY: bodies,
    ObjectKind.PROGRAM: programs,
    ObjectKind.PARTICIPATION: program_partners,
    ObjectKind.ACTIVITY: activities,
    ObjectKind.COMMITMENT: commitments,
    ObjectKind.SOURCE: sources,
}


@dataclass(frozen=True)
class Provenance:
    """The event behind a version: where it sits in the log and who said it, why, from where."""

    position: int
    type: str
    stream_id: str
    recorded_at: Any
    actor: str | None
    reason: str | None
    source: dict[str, Any] | None


async def history(connection: AsyncConnection, key: str) -> list[Row]:
    """Every version of every object whose key is `key` (a partner key, a membership id, a
    program key, ...), oldest first, each with its kind and the event that made it."""
    found: list[Row] = []
    for kind, table in HISTORIES.items():
        query = select(table).where(table.c.key == key)
        for row in (await connection.execute(query)).mappings():
            found.append({**plain(row, Basis()), "object": str(kind)})
    found.sort(key=lambda row: (row["record_from"], row["slice"]))
    ends = {row["record_to"] for row in found if row["record_to"] is not None}
    events = await provenance(connection, {row["record_from"] for row in found} | ends)
    return [
        {
            **row,
            "made_by": events[row["record_from"]],
            "closed_by": events.get(row["record_to"]) if row["record_to"] else None,
        }
        for row in found
    ]


def made_or_ended(periods: Iterable[tuple[int, int | None]], position: int | None) -> list[int]:
    """The events behind an object's versions, given each version's record period (the
    positions that made it and, if any, ended it): every one that made a version, and every
    one up to `position` that ended one (a correction, a change, a retraction); oldest first."""
    found: set[int] = set()
    for made, ended in periods:
        found.add(made)
        if ended is not None and (position is None or ended <= position):
            found.add(ended)
    return sorted(found)


async def record_periods(
    connection: AsyncConnection, kind: ObjectKind, keys: Sequence[str], position: int | None
) -> dict[str, list[tuple[int, int | None]]]:
    """For each of `keys` (objects of one kind), the record period of each of its versions
    made up to `position` (the versions `versions_of` reads, their periods alone)."""
    table = HISTORIES[kind]
    query = select(table.c.key, table.c.record_from, table.c.record_to)
    query = query.where(table.c.key.in_(list(keys)))
    if position is not None:
        query = query.where(table.c.record_from <= position)
    found: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for key, made, ended in await connection.execute(query):
        found[key].append((made, ended))
    return found


async def provenance(connection: AsyncConnection, positions: set[int]) -> dict[int, Provenance]:
    """The events at `positions`, with their metadata, by position."""
    if not positions:
        return {}
    query = select(
        events.c.position,
        events.c.type,
        events.c.stream_id,
        events.c.recorded_at,
        events.c.metadata,
    ).where(events.c.position.in_(sorted(positions)))
    result = {}
    for row in await connection.execute(query):
        meta = msgspec.json.decode(row.metadata)
        result[row.position] = Provenance(
            row.position,
            row.type,
            row.stream_id,
            row.recorded_at,
            meta.get("actor"),
            meta.get("reason"),
            meta.get("source"),
        )
    return result


@dataclass(frozen=True)
class Change:
    kind: str  # what sort of object: membership, role, program, ...
    change: str  # started | ended | corrected | recorded
    key: str
    row: Row


async def changes_between(
    connection: AsyncConnection, start: date, end: date, position: int | None = None
) -> list[Change]:
    """What started or ended in the world between two days (inclusive), as recorded."""
    found: list[Change] = []
    for kind, table in HISTORIES.items():
        basis = Basis(None, position)
        query = basis.where(table, select(table)).where(
            or_(
                table.c.valid_from_lo.between(start, end) & table.c.valid_from.is_not(None),
                table.c.valid_to_lo.between(start, end) & table.c.valid_to.is_not(None),
            )
        )
        for row in (await connection.execute(query)).mappings():
            if row["valid_from"] is not None and start <= row["valid_from_lo"] <= end:
                found.append(Change(str(kind), "started", row["key"], plain(row, basis)))
            if row["valid_to"] is not None and start <= row["valid_to_lo"] <= end:
                found.append(Change(str(kind), "ended", row["key"], plain(row, basis)))
    found.sort(key=lambda c: (c.row["valid_from_lo"], c.kind, c.key, c.change))
    return found


async def changes_recorded(connection: AsyncConnection, after: int, until: int) -> list[Change]:
    """What the record changed between two positions: versions opened in (after, until],
    told apart as recorded (new), corrected (by a correction event) or changed; and objects
    retracted there (their versions closed with none opened in their place)."""
    found: list[Change] = []
    for kind, table in HISTORIES.items():
        query = select(table).where(table.c.record_from > after, table.c.record_from <= until)
        for row in (await connection.execute(query)).mappings():
            found.append(
                Change(str(kind), _nature(row["event_type"]), row["key"], plain(row, Basis()))
            )
        for row in (await connection.execute(_withdrawn(table, after, until))).mappings():
            found.append(Change(str(kind), "retracted", row["key"], plain(row, Basis())))
    found.sort(key=lambda c: (_changed_at(c), c.kind, c.key, c.row["slice"]))
    return found


def _withdrawn(table: Table, after: int, until: int) -> Select[Any]:
    """The last versions of objects the record stopped holding in (after, until]."""
    successor = table.alias("successor")
    replaced = exists().where(
        successor.c.key == table.c.key, successor.c.record_from == table.c.record_to
    )
    return select(table).where(table.c.record_to > after, table.c.record_to <= until, ~replaced)


def _changed_at(change: Change) -> int:
    position: int = change.row["record_to" if change.change == "retracted" else "record_from"]
    return position


def _nature(event_type: str) -> str:
    if event_type.endswith("Corrected"):
        return "corrected"
    if event_type.endswith(("Ended", "Concluded", "LeftProgram")):
        return "ended"
    if event_type.endswith("Updated") or event_type == "BodySizeRecorded":
        return "changed"
    return "recorded"


def versions_of(
    kind: ObjectKind,
) -> Callable[[AsyncConnection, Sequence[str], Basis], Awaitable[dict[str, list[Row]]]]:
    """A batched query for every version of the objects of one kind, up to a position."""
    table = HISTORIES[kind]

    async def fetch(
        connection: AsyncConnection, keys: Sequence[str], basis: Basis
    ) -> dict[str, list[Row]]:
        query = select(table).where(table.c.key.in_(list(keys)))
        if basis.position is not None:
            query = query.where(table.c.record_from <= basis.position)
        query = query.order_by(table.c.key, table.c.record_from, table.c.slice)
        found: dict[str, list[Row]] = defaultdict(list)
        for row in (await connection.execute(query)).mappings():
            found[row["key"]].append(plain(row, Basis()))
        return found

    return fetch


async def corrected_keys(
    connection: AsyncConnection, kind: ObjectKind, keys: Sequence[str], position: int | None
) -> set[str]:
    """Those of `keys` whose record holds a correction (up to `position`, when given)."""
    if not keys:
        return set()
    table = HISTORIES[kind]
    query = (
        select(table.c.key)
        .where(table.c.key.in_(list(keys)), table.c.event_type.like("%Corrected"))
        .distinct()
    )
    if position is not None:
        query = query.where(table.c.record_from <= position)
    return set(await connection.scalars(query))
