"""Partner and Body: the cities, networks and organisations of the record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.vocabulary import ObjectKind, PartnerKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import When, basis_for
from schema.context import Info
from schema.loaders import (
    ACTIVITIES_OF_PARTNER,
    ACTIVITY,
    BODIES_OF,
    COMMITMENTS_BY,
    MEMBERS_OF,
    MEMBERSHIPS_OF,
    PARTICIPATIONS_OF_PARTNER,
    PROGRAM,
    PROGRAMS_LED_BY,
    ROLES_IN,
    ROLES_OF,
    Loader,
    Rows,
    rows_in_key_order,
)
from schema.nodes import Recorded, global_id
from schema.pagination import Connection, Paging, connection_of
from schema.scalars import partial_date

if TYPE_CHECKING:
    from schema.activities import Activity, Commitment
    from schema.memberships import Membership, Role
    from schema.programs import Program

Lazy = strawberry.lazy
CERTAIN = (
    "False when the dates on record cannot tell whether this held on `asOf` (or on some day"
    " of `during`)."
)


@strawberry.type
class Partner(Recorded):
    """A city, a network, an international organisation, a national body."""

    kind_of_record = ObjectKind.PARTNER

    key: str
    name: str
    kind: PartnerKind
    country: str | None
    region: str | None
    description: str | None
    valid_from: PartialDate | None = strawberry.field(
        description="From when these details held in the world (null: from the start)."
    )
    valid_to: PartialDate | None = strawberry.field(
        description="Until when these details held (null: they still hold)."
    )
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Partner:
        return cls(
            id=global_id("Partner", row["key"]),
            key=row["key"],
            name=row["name"],
            kind=row["kind"],
            country=row["country"],
            region=row["region"],
            description=row["description"],
            valid_from=partial_date(row["valid_from"]),
            valid_to=partial_date(row["valid_to"]),
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            basis=basis,
        )

    async def _related(
        self,
        info: Info,
        loader: Loader[Rows],
        make: Callable[[Row, Basis], Any],
        when: When,
        paging: Paging,
    ) -> Connection[Any]:
        """A connection of rows a loader gives for this partner, on its basis or its own."""
        basis = await basis_for(info, when, self.basis)
        rows = await loader.load(info.context, basis, self.key)
        return connection_of(info, rows_in_key_order(rows), lambda r: make(r, basis), paging)

    @strawberry.field(description="The networks this partner belongs to (its memberships).")
    async def memberships(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Membership, Lazy("schema.memberships")]]:
        from schema.memberships import Membership

        when = When(as_of, during, known_at, at_position)
        paging = Paging(first, after, last, before)
        return await self._related(info, MEMBERSHIPS_OF, Membership.from_row, when, paging)

    @strawberry.field(description="The members of this network.")
    async def members(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Membership, Lazy("schema.memberships")]]:
        from schema.memberships import Membership

        when = When(as_of, during, known_at, at_position)
        paging = Paging(first, after, last, before)
        return await self._related(info, MEMBERS_OF, Membership.from_row, when, paging)

    @strawberry.field(description="The roles this partner holds in networks and their bodies.")
    async def roles(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Role, Lazy("schema.memberships")]]:
        from schema.memberships import Role

        when = When(as_of, during, known_at, at_position)
        paging = Paging(first, after, last, before)
        return await self._related(info, ROLES_OF, Role.from_row, when, paging)

    @strawberry.field(description="The roles held in this network and its bodies.")
    async def officeholders(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Role, Lazy("schema.memberships")]]:
        from schema.memberships import Role

        when = When(as_of, during, known_at, at_position)
        paging = Paging(first, after, last, before)
        return await self._related(info, ROLES_IN, Role.from_row, when, paging)

    @strawberry.field(description="The bodies of this network, with their last recorded size.")
    async def bodies(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Body]:
        rows = await BODIES_OF.load(info.context, self.basis, self.key)
        paging = Paging(first, after, last, before)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: Body.from_row(r, self.basis), paging
        )

    @strawberry.field(description="The programs this partner leads or takes part in.")
    async def programs(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Program, Lazy("schema.programs")]]:
        from schema.programs import Program

        basis = await basis_for(info, When(as_of, during, known_at, at_position), self.basis)
        taking_part, led = await asyncio.gather(
            PARTICIPATIONS_OF_PARTNER.load(info.context, basis, self.key),
            PROGRAMS_LED_BY.load(info.context, basis, self.key),
        )
        keys = sorted({row["program"] for row in taking_part} | {row["key"] for row in led})
        found = await asyncio.gather(*(PROGRAM.load(info.context, basis, k) for k in keys))
        rows = [row for row in found if row is not None]
        paging = Paging(first, after, last, before)
        return connection_of(info, rows, lambda r: Program.from_row(r, basis), paging)

    @strawberry.field(description="The activities this partner organised or took part in.")
    async def activities(
        self,
        info: Info,
        as_of: date | None = None,
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Activity, Lazy("schema.activities")]]:
        from schema.activities import Activity

        basis = await basis_for(info, When(as_of, during, known_at, at_position), self.basis)
        taking_part = await ACTIVITIES_OF_PARTNER.load(info.context, basis, self.key)
        keys = sorted({row["activity"] for row in taking_part})
        found = await asyncio.gather(*(ACTIVITY.load(info.context, basis, k) for k in keys))
        rows = [row for row in found if row is not None]
        paging = Paging(first, after, last, before)
        return connection_of(info, rows, lambda r: Activity.from_row(r, basis), paging)

    @strawberry.field(description="What this partner announced.")
    async def commitments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Commitment, Lazy("schema.activities")]]:
        from schema.activities import Commitment

        rows = await COMMITMENTS_BY.load(info.context, self.basis, self.key)
        paging = Paging(first, after, last, before)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: Commitment.from_row(r, self.basis), paging
        )


@strawberry.type
class Body(Recorded):
    """A body of a network (C40's Steering Committee)."""

    kind_of_record = ObjectKind.BODY
    key_field = "row_key"

    key: str
    name: str
    description: str | None
    size: int | None
    size_as_of: PartialDate | None
    network_key: strawberry.Private[str]
    row_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Body:
        return cls(
            id=global_id("Body", row["key"]),
            position=row["record_from"],
            row_key=row["key"],
            key=row["body"],
            name=row["name"],
            description=row["description"],
            size=row["size"],
            size_as_of=partial_date(row["size_as_of"]),
            network_key=row["network"],
            basis=basis,
        )

    @strawberry.field(description="The network this body belongs to.")
    async def network(self, info: Info) -> Partner | None:
        from schema.memberships import partner

        return await partner(info, self.basis, self.network_key)
