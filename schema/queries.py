"""Root queries over the cooperation record: current, as of a day or during a period, as the
record stood."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, TypeVar

import strawberry

from domain.vocabulary import ActivityKind, Field, ObjectKind, PartnerKind, ProgramStatus
from events.dates import PartialDate
from projections.queries import history as history_queries
from projections.queries import partners as partner_queries
from projections.queries import programs as program_queries
from projections.queries.basis import Basis, Row
from schema.activities import Activity, Commitment
from schema.basis import When, check_range, root_basis
from schema.context import Info
from schema.enums import ChangeKind
from schema.errors import bad_input
from schema.loaders import ACTIVITY, COMMITMENT, PARTNER, PROGRAM, Loader
from schema.nodes import Node, Version, parse_global_id, version_cursor
from schema.objects import BY_NAME
from schema.pagination import (
    Connection,
    Paging,
    connection_from,
    connection_of,
    page,
    wants_total,
)
from schema.partners import Partner
from schema.programs import Program
from schema.sources import Source

From = Annotated[date | None, strawberry.argument(name="from")]
T = TypeVar("T")


@strawberry.type
class HistoryEntry:
    """One version behind a key, and what kind of object it is a version of."""

    kind: ObjectKind
    key: str
    version: Version


@strawberry.type
class Change:
    """What happened to an object: in the world (started, ended) or in the record (recorded,
    corrected, changed, retracted), with the version it concerns."""

    kind: ObjectKind
    change: ChangeKind
    key: str
    version: Version


async def _by_key(
    info: Info, loader: Loader[Row | None], make: Callable[[Row, Basis], T], key: str, when: When
) -> T | None:
    """One object by key on the root field's basis, or None where none holds on it."""
    basis = await root_basis(info, when)
    row = await loader.load(info.context, basis, key)
    return make(row, basis) if row else None


def _change_cursor(entry: tuple[str, Change]) -> str:
    return entry[0]


def _changes(info: Info, found: list[history_queries.Change], paging: Paging) -> Connection[Change]:
    """Changes in the order given, paged by their place in it."""
    entries = [
        (
            f"{number:08d}",
            Change(
                kind=ObjectKind(c.kind),
                change=ChangeKind(c.change),
                key=c.key,
                version=Version.of(c.row),
            ),
        )
        for number, c in enumerate(found)
    ]
    return connection_of(info, entries, lambda entry: entry[1], paging, _change_cursor)


@strawberry.type
class RecordQuery:
    @strawberry.field(
        description="A partner by key, as of a day (or during a period) and as the record stood."
    )
    async def partner(
        self,
        info: Info,
        key: str,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Partner | None:
        when = When(as_of, during, known_at, at_position)
        return await _by_key(info, PARTNER, Partner.from_row, key, when)

    @strawberry.field(description="Partners matching every filter given, in key order.")
    async def partners(
        self,
        info: Info,
        kind: PartnerKind | None = None,
        country: str | None = None,
        region: str | None = None,
        search: str | None = None,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Partner]:
        basis = await root_basis(info, When(as_of, during, known_at, at_position))
        paging = Paging(first, after, last, before)
        async with info.context.db() as connection:
            found = await partner_queries.find_partners(
                connection,
                basis,
                page(info, paging),
                with_total=wants_total(info),
                kind=kind,
                country=country,
                region=region,
                search=search,
            )
        return connection_from(found, lambda row: Partner.from_row(row, basis), paging)

    @strawberry.field(
        description="A program by key, as of a day (or during a period) and as the record stood."
    )
    async def program(
        self,
        info: Info,
        key: str,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Program | None:
        when = When(as_of, during, known_at, at_position)
        return await _by_key(info, PROGRAM, Program.from_row, key, when)

    @strawberry.field(description="Programs by field, partner taking part, and status.")
    async def programs(
        self,
        info: Info,
        field: Field | None = None,
        partner: str | None = None,
        status: ProgramStatus | None = None,
        search: str | None = None,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Program]:
        basis = await root_basis(info, When(as_of, during, known_at, at_position))
        paging = Paging(first, after, last, before)
        async with info.context.db() as connection:
            found = await program_queries.find_programs(
                connection,
                basis,
                page(info, paging),
                with_total=wants_total(info),
                field=field,
                partner=partner,
                status=status,
                search=search,
            )
        return connection_from(found, lambda row: Program.from_row(row, basis), paging)

    @strawberry.field(description="An activity by key, as the record stood.")
    async def activity(
        self,
        info: Info,
        key: str,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Activity | None:
        when = When(known_at=known_at, at_position=at_position)
        return await _by_key(info, ACTIVITY, Activity.from_row, key, when)

    @strawberry.field(description="Activities that may fall between `from` and `to`, inclusive.")
    async def activities(
        self,
        info: Info,
        from_: From = None,
        to: date | None = None,
        kind: ActivityKind | None = None,
        network: str | None = None,
        program: str | None = None,
        search: str | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Activity]:
        check_range(from_, to)
        basis = await root_basis(info, When(known_at=known_at, at_position=at_position))
        paging = Paging(first, after, last, before)
        async with info.context.db() as connection:
            found = await program_queries.find_activities(
                connection,
                basis,
                page(info, paging),
                with_total=wants_total(info),
                start=from_,
                end=to,
                kind=kind,
                network=network,
                program=program,
                search=search,
            )
        return connection_from(found, lambda row: Activity.from_row(row, basis), paging)

    @strawberry.field(
        description="A commitment by key, standing asOf a day (or during a period), as the"
        " record stood."
    )
    async def commitment(
        self,
        info: Info,
        key: str,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Commitment | None:
        when = When(as_of, during, known_at, at_position)
        return await _by_key(info, COMMITMENT, Commitment.from_row, key, when)

    @strawberry.field(
        description="Commitments by whom, at which activity, announced between `from` and `to`"
        " (inclusive), standing asOf a day or during a period."
    )
    async def commitments(
        self,
        info: Info,
        by: str | None = None,
        activity: str | None = None,
        from_: From = None,
        to: date | None = None,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Commitment]:
        check_range(from_, to)
        basis = await root_basis(info, When(as_of, during, known_at, at_position))
        paging = Paging(first, after, last, before)
        async with info.context.db() as connection:
            found = await program_queries.find_commitments(
                connection,
                basis,
                page(info, paging),
                with_total=wants_total(info),
                by=by,
                activity=activity,
                start=from_,
                end=to,
            )
        return connection_from(found, lambda row: Commitment.from_row(row, basis), paging)

    @strawberry.field(description="The documents the record's facts come from.")
    async def sources(
        self,
        info: Info,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Source]:
        basis = await root_basis(info, When(known_at=known_at, at_position=at_position))
        async with info.context.db() as connection:
            rows = await partner_queries.find_sources(connection, basis)
        paging = Paging(first, after, last, before)
        return connection_of(info, rows, lambda row: Source.from_row(row, basis), paging)

    @strawberry.field(
        description="Every version behind a key (partner, membership, program, ...), in record"
        " order; empty when nothing on record has it."
    )
    async def history(
        self,
        info: Info,
        key: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[HistoryEntry]:
        async with info.context.db() as connection:
            rows = await history_queries.history(connection, key)
        entries = [
            HistoryEntry(kind=ObjectKind(r["object"]), key=r["key"], version=Version.of(r))
            for r in rows
        ]
        paging = Paging(first, after, last, before)
        return connection_of(
            info, entries, lambda entry: entry, paging, lambda entry: version_cursor(entry.version)
        )

    @strawberry.field(
        description="What started or ended in the world between two days (inclusive),"
        " as the record stood at `knownAt` or `atPosition` (now by default)."
    )
    async def changes(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Change]:
        check_range(from_, to)
        basis = await root_basis(info, When(known_at=known_at, at_position=at_position))
        async with info.context.db() as connection:
            found = await history_queries.changes_between(connection, from_, to, basis.position)
        return _changes(info, found, Paging(first, after, last, before))

    @strawberry.field(
        description="What the record changed between two log positions: what was recorded,"
        " corrected, changed or retracted after `afterPosition`, up to `untilPosition` (the"
        " head by default)."
    )
    async def recorded_changes(
        self,
        info: Info,
        after_position: int,
        until_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Change]:
        head = await info.context.head()
        end = until_position if until_position is not None else head
        if not 0 <= after_position <= end:
            raise bad_input(
                f"afterPosition ({after_position}) must be from 0 to untilPosition ({end})"
            )
        async with info.context.db() as connection:
            found = await history_queries.changes_recorded(connection, after_position, end)
        return _changes(info, found, Paging(first, after, last, before))

    @strawberry.field(description="Any object by its global id, as the record stands now.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = parse_global_id(id)
        object_type = BY_NAME.get(type_name)
        if object_type is None:
            raise bad_input(f"{id!r} names a {type_name}, which is not a type of this API")
        row = await object_type.loader.load(info.context, Basis(), key)
        return None if row is None else object_type.make(row, Basis())
