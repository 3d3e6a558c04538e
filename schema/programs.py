"""Program and Participation: cooperation in a field, and who takes part over which period."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import basis_for
from schema.context import Info
from schema.loaders import (
    ACTIVITIES_OF_PROGRAM,
    PARTICIPANTS_OF_PROGRAM,
    PROGRAM,
    rows_in_key_order,
)
from schema.memberships import partner
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
from schema.partners import Partner
from schema.scalars import partial_date

if TYPE_CHECKING:
    from schema.activities import Activity


@strawberry.type
class Program(Node):
    """A cooperation in a field with partners: an exchange, a bilateral program, an initiative."""

    key: str
    name: str
    field: str
    kind: str
    topics: list[str]
    description: str | None
    since: PartialDate | None
    until: PartialDate | None
    certain: bool
    recorded_at: datetime
    position: int
    lead_key: strawberry.Private[str]
    network_key: strawberry.Private[str | None]
    basis: strawberry.Private[Basis]

    @strawberry.field(
        description="active, or concluded: once an end is on record, or, asked asOf a day,"
        " once it ended before that day."
    )
    def status(self) -> str:
        if self.until is None:
            return "active"
        if self.basis.as_of is None or self.until.latest < self.basis.as_of:
            return "concluded"
        return "active"

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Program:
        return cls(
            id=global_id("Program", row["key"]),
            key=row["key"],
            name=row["name"],
            field=row["field"],
            kind=row["kind"],
            topics=row["topics"],
            description=row["description"],
            since=partial_date(row["valid_from"]),
            until=partial_date(row["valid_to"]),
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            lead_key=row["lead"],
            network_key=row["network"],
            basis=basis,
        )

    @strawberry.field
    async def lead(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.lead_key)

    @strawberry.field(description="The network whose initiative this is, if any.")
    async def network(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.network_key)

    @strawberry.field(description="The partners taking part, each over its own period.")
    async def partners(
        self,
        info: Info,
        as_of: date | None = None,
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Participation]:
        basis = await basis_for(info, as_of, known_at, inherited=self.basis)
        rows = await PARTICIPANTS_OF_PROGRAM.load(info.context, basis, self.key)
        return connection_of(
            info,
            rows_in_key_order(rows),
            lambda r: Participation.from_row(r, basis),
            first=first,
            after=after,
        )

    @strawberry.field(description="Activities held under this program.")
    async def activities(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Activity, strawberry.lazy("schema.activities")]]:
        from schema.activities import Activity

        rows = await ACTIVITIES_OF_PROGRAM.load(info.context, self.basis, self.key)
        return connection_of(
            info,
            rows_in_key_order(rows),
            lambda r: Activity.from_row(r, self.basis),
            first=first,
            after=after,
        )

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.PROGRAM, self.key, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.PROGRAM, self.key, self.basis)


@strawberry.type
class Participation(Node):
    """A partner taking part in a program over a period."""

    participation_id: str
    since: PartialDate | None
    until: PartialDate | None
    certain: bool
    recorded_at: datetime
    position: int
    partner_key: strawberry.Private[str]
    program_key: strawberry.Private[str]
    basis: strawberry.Private[Basis]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Participation:
        return cls(
            id=global_id("Participation", row["key"]),
            participation_id=row["key"],
            since=partial_date(row["valid_from"]),
            until=partial_date(row["valid_to"]),
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            partner_key=row["partner"],
            program_key=row["program"],
            basis=basis,
        )

    @strawberry.field
    async def partner(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.partner_key)

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this participation, up to the basis position.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.PARTICIPATION, self.participation_id, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.PARTICIPATION, self.participation_id, self.basis)

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        row = await PROGRAM.load(info.context, self.basis, self.program_key)
        return Program.from_row(row, self.basis) if row else None
