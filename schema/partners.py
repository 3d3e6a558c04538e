"""Partner and Body: the cities, networks and organisations of the record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import basis_for
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
from schema.nodes import (
    Node,
    Provenance,
    SourceReference,
    Version,
    global_id,
    provenance,
    source_of,
    versions,
)
from schema.pagination import Connection, connection_of
from schema.scalars import partial_date

if TYPE_CHECKING:
    from schema.activities import Activity, Commitment
    from schema.memberships import Membership, Role
    from schema.programs import Program

Lazy = strawberry.lazy


@strawberry.type
class Partner(Node):
    """A city, a network, an international organisation, a national body."""

    key: str
    name: str
    kind: str
    country: str | None
    region: str | None
    description: str | None
    valid_from: PartialDate | None
    valid_to: PartialDate | None
    certain: bool = strawberry.field(
        description="False when the dates on record cannot tell whether this held on asOf."
    )
    recorded_at: datetime
    position: int = strawberry.field(description="The log position that made this version.")
    basis: strawberry.Private[Basis]

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
        as_of: date | None,
        known_at: datetime | None,
        first: int | None,
        after: str | None,
    ) -> Connection[Any]:
        """A connection of rows a loader gives for this partner, on its basis or its own."""
        basis = await basis_for(info, as_of, known_at, inherited=self.basis)
        rows = await loader.load(info.context, basis, self.key)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: make(r, basis), first=first, after=after
        )

    @strawberry.field(description="The networks this partner belongs to (its memberships).")
    async def memberships(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Membership, Lazy("schema.memberships")]]:
        from schema.memberships import Membership

        return await self._related(
            info, MEMBERSHIPS_OF, Membership.from_row, as_of, known_at, first, after
        )

    @strawberry.field(description="The members of this network.")
    async def members(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Membership, Lazy("schema.memberships")]]:
        from schema.memberships import Membership

        return await self._related(
            info, MEMBERS_OF, Membership.from_row, as_of, known_at, first, after
        )

    @strawberry.field(description="The roles this partner holds in networks and their bodies.")
    async def roles(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Role, Lazy("schema.memberships")]]:
        from schema.memberships import Role

        return await self._related(info, ROLES_OF, Role.from_row, as_of, known_at, first, after)

    @strawberry.field(description="The roles held in this network and its bodies.")
    async def officeholders(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Role, Lazy("schema.memberships")]]:
        from schema.memberships import Role

        return await self._related(info, ROLES_IN, Role.from_row, as_of, known_at, first, after)

    @strawberry.field(description="The bodies of this network, with their last recorded size.")
    async def bodies(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Body]:
        rows = await BODIES_OF.load(info.context, self.basis, self.key)
        return connection_of(info, rows_in_key_order(rows), Body.from_row, first=first, after=after)

    @strawberry.field(description="The programs this partner leads or takes part in.")
    async def programs(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Program, Lazy("schema.programs")]]:
        from schema.programs import Program

        basis = await basis_for(info, as_of, known_at, inherited=self.basis)
        taking_part, led = await asyncio.gather(
            PARTICIPATIONS_OF_PARTNER.load(info.context, basis, self.key),
            PROGRAMS_LED_BY.load(info.context, basis, self.key),
        )
        keys = sorted({row["program"] for row in taking_part} | {row["key"] for row in led})
        found = await asyncio.gather(*(PROGRAM.load(info.context, basis, k) for k in keys))
        rows = [row for row in found if row is not None]
        return connection_of(
            info, rows, lambda r: Program.from_row(r, basis), first=first, after=after
        )

    @strawberry.field(description="The activities this partner organised or took part in.")
    async def activities(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[Activity, Lazy("schema.activities")]]:
        from schema.activities import Activity

        basis = await basis_for(info, as_of, known_at, inherited=self.basis)
        taking_part = await ACTIVITIES_OF_PARTNER.load(info.context, basis, self.key)
        keys = sorted({row["activity"] for row in taking_part})
        found = await asyncio.gather(*(ACTIVITY.load(info.context, basis, k) for k in keys))
        rows = [row for row in found if row is not None]
        return connection_of(
            info, rows, lambda r: Activity.from_row(r, basis), first=first, after=after
        )

    @strawberry.field(description="What this partner announced.")
    async def commitments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Commitment, Lazy("schema.activities")]]:
        from schema.activities import Commitment

        rows = await COMMITMENTS_BY.load(info.context, self.basis, self.key)
        return connection_of(
            info,
            rows_in_key_order(rows),
            lambda r: Commitment.from_row(r, self.basis),
            first=first,
            after=after,
        )

    @strawberry.field(description="Where the current version of this partner came from.")
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this partner, up to the basis position.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.PARTNER, self.key, self.basis)

    @strawberry.field(description="The events that made this partner's record.")
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.PARTNER, self.key, self.basis)


@strawberry.type
class Body(Node):
    """A body of a network (C40's Steering Committee)."""

    key: str
    name: str
    description: str | None
    size: int | None
    size_as_of: PartialDate | None
    position: int
    network_key: strawberry.Private[str]
    row_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row, basis: Basis | None = None) -> Body:
        """A body as recorded; its size is not dated in valid time, so `basis` is unused."""
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
        )

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this body.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.BODY, self.row_key, Basis())

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.BODY, self.row_key, Basis())
