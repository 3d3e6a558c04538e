"""Program and Participation: cooperation in a field, and who takes part over which period."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.vocabulary import Field, ObjectKind, ProgramKind, ProgramStatus
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import When, basis_for
from schema.context import Info
from schema.loaders import (
    ACTIVITIES_OF_PROGRAM,
    PARTICIPANTS_OF_PROGRAM,
    PROGRAM,
    rows_in_key_order,
)
from schema.memberships import partner
from schema.nodes import Recorded, global_id
from schema.pagination import Connection, Paging, connection_of
from schema.partners import CERTAIN, Partner
from schema.scalars import partial_date

if TYPE_CHECKING:
    from schema.activities import Activity


@strawberry.type
class Program(Recorded):
    """A cooperation in a field with partners: an exchange, a bilateral program, an initiative."""

    kind_of_record = ObjectKind.PROGRAM

    key: str
    name: str
    field: Field
    kind: ProgramKind
    topics: list[str]
    description: str | None
    since: PartialDate | None
    until: PartialDate | None
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime
    lead_key: strawberry.Private[str]
    network_key: strawberry.Private[str | None]

    @strawberry.field(
        description="ACTIVE, or CONCLUDED: once an end is on record, or, asked asOf a day (or"
        " during a period), once it ended before that day (before the period began)."
    )
    def status(self) -> ProgramStatus:
        window = self.basis.window
        if self.until is None:
            return ProgramStatus.ACTIVE
        if window is None or self.until.latest < window[0]:
            return ProgramStatus.CONCLUDED
        return ProgramStatus.ACTIVE

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
        during: PartialDate | None = None,
        known_at: datetime | None = None,
        at_position: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Participation]:
        basis = await basis_for(info, When(as_of, during, known_at, at_position), self.basis)
        rows = await PARTICIPANTS_OF_PROGRAM.load(info.context, basis, self.key)
        paging = Paging(first, after, last, before)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: Participation.from_row(r, basis), paging
        )

    @strawberry.field(description="Activities held under this program.")
    async def activities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Activity, strawberry.lazy("schema.activities")]]:
        from schema.activities import Activity

        rows = await ACTIVITIES_OF_PROGRAM.load(info.context, self.basis, self.key)
        paging = Paging(first, after, last, before)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: Activity.from_row(r, self.basis), paging
        )


@strawberry.type
class Participation(Recorded):
    """A partner taking part in a program over a period."""

    kind_of_record = ObjectKind.PARTICIPATION
    key_field = "participation_id"

    participation_id: str
    since: PartialDate | None
    until: PartialDate | None
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime
    partner_key: strawberry.Private[str]
    program_key: strawberry.Private[str]

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
    async def program(self, info: Info) -> Program | None:
        row = await PROGRAM.load(info.context, self.basis, self.program_key)
        return Program.from_row(row, self.basis) if row else None
