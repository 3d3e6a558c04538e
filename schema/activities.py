"""Activity, Commitment and Source: what took place, what was announced, where it is written."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.context import Info
from schema.loaders import ACTIVITY, COMMITMENTS_AT, PROGRAM, rows_in_key_order
from schema.memberships import partner, partners
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
from schema.pagination import Connection, connection_of, connection_of_keyed
from schema.partners import Partner
from schema.programs import Program
from schema.scalars import partial_date


@strawberry.type
class Activity(Node):
    """A dated occurrence: a workshop, an annual meeting, a committee meeting, an event."""

    key: str
    name: str
    kind: str
    on: PartialDate | None
    mode: str | None
    field: str | None
    representatives: list[str]
    description: str | None
    certain: bool
    recorded_at: datetime
    position: int
    organiser_key: strawberry.Private[str | None]
    participant_keys: strawberry.Private[list[str]]
    network_key: strawberry.Private[str | None]
    program_key: strawberry.Private[str | None]
    basis: strawberry.Private[Basis]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Activity:
        return cls(
            id=global_id("Activity", row["key"]),
            key=row["key"],
            name=row["name"],
            kind=row["kind"],
            on=partial_date(row["valid_from"]),
            mode=row["mode"],
            field=row["field"],
            representatives=row["representatives"],
            description=row["description"],
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            organiser_key=row["organiser"],
            participant_keys=row["participants"],
            network_key=row["network"],
            program_key=row["program"],
            basis=basis,
        )

    @strawberry.field
    async def organiser(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.organiser_key)

    @strawberry.field
    async def participants(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Partner]:
        found = await partners(info, self.basis, self.participant_keys)
        return connection_of_keyed(info, found, first=first, after=after)

    @strawberry.field
    async def network(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.network_key)

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        if self.program_key is None:
            return None
        row = await PROGRAM.load(info.context, self.basis, self.program_key)
        return Program.from_row(row, self.basis) if row else None

    @strawberry.field(description="What was announced at this activity.")
    async def commitments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Commitment]:
        rows = await COMMITMENTS_AT.load(info.context, self.basis, self.key)
        return connection_of(
            info,
            rows_in_key_order(rows),
            lambda r: Commitment.from_row(r, self.basis),
            first=first,
            after=after,
        )

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this activity, up to the basis position.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.ACTIVITY, self.key, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.ACTIVITY, self.key, self.basis)


@strawberry.type
class Commitment(Node):
    """What a partner declared, when, and at which activity, with its focus areas."""

    key: str
    by_title: str | None
    on: PartialDate | None
    statement: str
    focus_areas: list[str]
    recorded_at: datetime
    position: int
    by_key: strawberry.Private[str]
    activity_key: strawberry.Private[str | None]
    collaborator_keys: strawberry.Private[list[str]]
    basis: strawberry.Private[Basis]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Commitment:
        return cls(
            id=global_id("Commitment", row["key"]),
            key=row["key"],
            by_title=row["by_title"],
            on=partial_date(row["valid_from"]),
            statement=row["statement"],
            focus_areas=row["focus_areas"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            by_key=row["by"],
            activity_key=row["activity"],
            collaborator_keys=row["collaborators"],
            basis=basis,
        )

    @strawberry.field
    async def by(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.by_key)

    @strawberry.field
    async def activity(self, info: Info) -> Activity | None:
        if self.activity_key is None:
            return None
        row = await ACTIVITY.load(info.context, self.basis, self.activity_key)
        return Activity.from_row(row, self.basis) if row else None

    @strawberry.field
    async def collaborators(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Partner]:
        found = await partners(info, self.basis, self.collaborator_keys)
        return connection_of_keyed(info, found, first=first, after=after)

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this commitment, up to the basis position.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.COMMITMENT, self.key, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.COMMITMENT, self.key, self.basis)
