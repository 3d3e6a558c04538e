"""Activity and Commitment: what took place, and what was announced."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.vocabulary import ActivityKind, Field, Mode, ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.context import Info
from schema.loaders import ACTIVITY, COMMITMENTS_AT, PROGRAM, rows_in_key_order
from schema.memberships import body, partner, partners
from schema.nodes import Recorded, global_id
from schema.pagination import Connection, Paging, connection_of, connection_of_keyed
from schema.partners import CERTAIN, Body, Partner
from schema.programs import Program
from schema.scalars import partial_date


@strawberry.type
class Activity(Recorded):
    """A dated occurrence: a workshop, an annual meeting, a committee meeting, an event."""

    kind_of_record = ObjectKind.ACTIVITY

    key: str
    name: str
    kind: ActivityKind
    on: PartialDate | None
    mode: Mode | None
    field: Field | None
    representatives: list[str] = strawberry.field(
        description='Who spoke for the participants, as the source names them: "Governor of Tokyo".'
    )
    description: str | None
    certain: bool = strawberry.field(
        description="False when the dates on record cannot tell whether it took place on"
        " `asOf`, within `during`, or between `from` and `to`."
    )
    recorded_at: datetime
    organiser_key: strawberry.Private[str | None]
    participant_keys: strawberry.Private[list[str]]
    network_key: strawberry.Private[str | None]
    body_key: strawberry.Private[str | None]
    program_key: strawberry.Private[str | None]

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
            body_key=row["body"],
            program_key=row["program"],
            basis=basis,
        )

    @strawberry.field
    async def organiser(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.organiser_key)

    @strawberry.field
    async def participants(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Partner]:
        found = await partners(info, self.basis, self.participant_keys)
        return connection_of_keyed(info, found, Paging(first, after, last, before))

    @strawberry.field
    async def network(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.network_key)

    @strawberry.field(description="The body of the network that met, if it was one.")
    async def body(self, info: Info) -> Body | None:
        return await body(info, self.basis, self.network_key, self.body_key)

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        if self.program_key is None:
            return None
        row = await PROGRAM.load(info.context, self.basis, self.program_key)
        return Program.from_row(row, self.basis) if row else None

    @strawberry.field(description="What was announced at this activity.")
    async def commitments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Commitment]:
        rows = await COMMITMENTS_AT.load(info.context, self.basis, self.key)
        paging = Paging(first, after, last, before)
        return connection_of(
            info, rows_in_key_order(rows), lambda r: Commitment.from_row(r, self.basis), paging
        )


@strawberry.type
class Collaborator:
    """Who a commitment is to be carried out with, as the source names them, and the partner
    that is, when one is registered under that key."""

    name: str = strawberry.field(
        description='As given: a partner\'s key, or words such as "businesses" or "NGOs".'
    )
    partner: Partner | None


@strawberry.type
class Commitment(Recorded):
    """What a partner declared, when, and at which activity, with its focus areas."""

    kind_of_record = ObjectKind.COMMITMENT

    key: str
    by_title: str | None
    on: PartialDate | None
    statement: str
    focus_areas: list[str]
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime
    by_key: strawberry.Private[str]
    activity_key: strawberry.Private[str | None]
    collaborator_names: strawberry.Private[list[str]]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Commitment:
        return cls(
            id=global_id("Commitment", row["key"]),
            key=row["key"],
            by_title=row["by_title"],
            on=partial_date(row["valid_from"]),
            statement=row["statement"],
            focus_areas=row["focus_areas"],
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            by_key=row["by"],
            activity_key=row["activity"],
            collaborator_names=row["collaborators"],
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

    @strawberry.field(
        description="Who it is to be carried out with, in the order the source gives them."
    )
    async def collaborators(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Collaborator]:
        named = await partners(info, self.basis, self.collaborator_names)
        registered = {found.key: found for found in named}
        given = [
            (f"{number:06d}", Collaborator(name=name, partner=registered.get(name)))
            for number, name in enumerate(self.collaborator_names)
        ]
        return connection_of(
            info,
            given,
            lambda item: item[1],
            Paging(first, after, last, before),
            lambda item: item[0],
        )
