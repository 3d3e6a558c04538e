"""Root queries over the cooperation record: current, as of a day, as the record stood."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from projections.queries import history as history_queries
from projections.queries import partners as partner_queries
from projections.queries import programs as program_queries
from projections.queries.basis import Basis, Found, Page
from schema.activities import Activity, Commitment
from schema.basis import check_range, root_basis
from schema.context import Info
from schema.errors import bad_input
from schema.loaders import PARTNER, PROGRAM
from schema.nodes import Node, Version, parse_global_id
from schema.objects import BY_NAME
from schema.pagination import (
    Connection,
    Edge,
    PageInfo,
    connection_of,
    decode_cursor,
    encode_cursor,
    page_size,
    wants_total,
)
from schema.partners import Partner
from schema.programs import Program
from schema.sources import Source


def connection_from(found: Found, make: Any, after: str | None) -> Connection[Any]:
    edges = [Edge(cursor=encode_cursor(row["key"]), node=make(row)) for row in found.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=found.has_more,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=found.total if found.total is not None else len(edges),
    )


def page(info: Info, first: int | None, after: str | None) -> Page:
    return Page(after=decode_cursor(after), limit=page_size(info, first))


@strawberry.type
class HistoryEntry:
    """One version behind a key, and what kind of object it is a version of."""

    kind: str
    key: str
    version: Version


@strawberry.type
class Change:
    kind: str
    change: str
    key: str
    version: Version


@strawberry.type
class RecordQuery:
    @strawberry.field(description="A partner by key, as of a day and as the record stood.")
    async def partner(
        self,
        info: Info,
        key: str,
        as_of: date | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Partner | None:
        basis = await root_basis(info, as_of, known_at, at_position)
        row = await PARTNER.load(info.context, basis, key)
        return Partner.from_row(row, basis) if row else None

    @strawberry.field(description="Partners matching every filter given, in key order.")
    async def partners(
        self,
        info: Info,
        kind: str | None = None,
        country: str | None = None,
        region: str | None = None,
        search: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Partner]:
        basis = await root_basis(info, as_of, known_at, at_position)
        async with info.context.db() as connection:
            found = await partner_queries.find_partners(
                connection,
                basis,
                page(info, first, after),
                with_total=wants_total(info),
                kind=kind,
                country=country,
                region=region,
                search=search,
            )
        return connection_from(found, lambda row: Partner.from_row(row, basis), after)

    @strawberry.field
    async def program(
        self,
        info: Info,
        key: str,
        as_of: date | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
    ) -> Program | None:
        basis = await root_basis(info, as_of, known_at, at_position)
        row = await PROGRAM.load(info.context, basis, key)
        return Program.from_row(row, basis) if row else None

    @strawberry.field(description="Programs by field, partner taking part, and status.")
    async def programs(
        self,
        info: Info,
        field: str | None = None,
        partner: str | None = None,
        status: str | None = None,
        search: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Program]:
        if status not in (None, "active", "concluded"):
            raise bad_input(f"status {status!r} is not one of active, concluded")
        basis = await root_basis(info, as_of, known_at, at_position)
        async with info.context.db() as connection:
            found = await program_queries.find_programs(
                connection,
                basis,
                page(info, first, after),
                with_total=wants_total(info),
                field=field,
                partner=partner,
                status=status,
                search=search,
            )
        return connection_from(found, lambda row: Program.from_row(row, basis), after)

    @strawberry.field(description="Activities that may fall between `from` and `to`, inclusive.")
    async def activities(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        kind: str | None = None,
        network: str | None = None,
        program: str | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Activity]:
        check_range(from_, to)
        basis = await root_basis(info, None, known_at, at_position)
        async with info.context.db() as connection:
            found = await program_queries.find_activities(
                connection,
                basis,
                page(info, first, after),
                with_total=wants_total(info),
                start=from_,
                end=to,
                kind=kind,
                network=network,
                program=program,
            )
        return connection_from(found, lambda row: Activity.from_row(row, basis), after)

    @strawberry.field
    async def commitments(
        self,
        info: Info,
        by: str | None = None,
        activity: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Commitment]:
        basis = await root_basis(info, as_of, known_at, at_position)
        async with info.context.db() as connection:
            found = await program_queries.find_commitments(
                connection,
                basis,
                page(info, first, after),
                with_total=wants_total(info),
                by=by,
                activity=activity,
            )
        return connection_from(found, lambda row: Commitment.from_row(row, basis), after)

    @strawberry.field(description="The documents the record's facts come from.")
    async def sources(
        self,
        info: Info,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Source]:
        basis = await root_basis(info, None, known_at)
        async with info.context.db() as connection:
            rows = await partner_queries.find_sources(connection, basis)
        return connection_of(info, rows, Source.from_row, first=first, after=after)

    @strawberry.field(
        description="Every version behind a key (partner, membership, program, ...);"
        " empty when nothing on record has it."
    )
    async def history(self, info: Info, key: str) -> list[HistoryEntry]:
        async with info.context.db() as connection:
            rows = await history_queries.history(connection, key)
        return [HistoryEntry(kind=r["object"], key=r["key"], version=Version.of(r)) for r in rows]

    @strawberry.field(
        description="What started or ended in the world between two days (inclusive),"
        " as the record stood at `knownAt` (now by default)."
    )
    async def changes(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        known_at: datetime | None = None,
    ) -> list[Change]:
        check_range(from_, to)
        basis = await root_basis(info, None, known_at)
        async with info.context.db() as connection:
            found = await history_queries.changes_between(connection, from_, to, basis.position)
        return [
            Change(kind=c.kind, change=c.change, key=c.key, version=Version.of(c.row))
            for c in found
        ]

    @strawberry.field(description="What the record changed between two log positions.")
    async def recorded_changes(
        self, info: Info, after: int, until: int | None = None
    ) -> list[Change]:
        head = await info.context.head()
        end = until if until is not None else head
        if not 0 <= after <= end:
            raise bad_input(f"after ({after}) must be from 0 to until ({end})")
        async with info.context.db() as connection:
            found = await history_queries.changes_recorded(connection, after, end)
        return [
            Change(kind=c.kind, change=c.change, key=c.key, version=Version.of(c.row))
            for c in found
        ]

    @strawberry.field(description="Any object by its global id, as the record stands now.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = parse_global_id(id)
        object_type = BY_NAME.get(type_name)
        if object_type is None:
            raise bad_input(f"{id!r} names a {type_name}, which is not a type of this API")
        row = await object_type.loader.load(info.context, Basis(), key)
        return None if row is None else object_type.make(row, Basis())
