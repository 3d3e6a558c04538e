"""Membership and Role: who belongs to which network, and who holds which position."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import strawberry

from domain.ids import body_key
from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import When, basis_for
from schema.context import Info
from schema.loaders import BODY, PARTNER, ROLES_OF, rows_in_key_order
from schema.nodes import Recorded, global_id
from schema.pagination import Connection, Paging, connection_of
from schema.partners import CERTAIN, Body, Partner
from schema.scalars import partial_date


async def partner(info: Info, basis: Basis, key: str | None) -> Partner | None:
    """A partner by key on a basis; the current one when it is not held on that day."""
    if key is None:
        return None
    row = await PARTNER.load(info.context, basis, key)
    if row is None and basis.window is not None:
        # A partner's details are not dated the way memberships are: show what is on record.
        basis = basis.on_record()
        row = await PARTNER.load(info.context, basis, key)
    return Partner.from_row(row, basis) if row else None


async def partners(info: Info, basis: Basis, keys: list[str]) -> list[Partner]:
    """Partners by key, loaded together, in the order given (unknown keys left out)."""
    found = await asyncio.gather(*(partner(info, basis, key) for key in keys))
    return [p for p in found if p is not None]


@strawberry.type
class Membership(Recorded):
    """A member in a network over a period."""

    kind_of_record = ObjectKind.MEMBERSHIP
    key_field = "membership_id"

    membership_id: str
    since: PartialDate | None
    until: PartialDate | None
    notes: list[str]
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime
    member_key: strawberry.Private[str]
    network_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Membership:
        return cls(
            id=global_id("Membership", row["key"]),
            membership_id=row["key"],
            since=partial_date(row["valid_from"]),
            until=partial_date(row["valid_to"]),
            notes=row["notes"],
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            member_key=row["member"],
            network_key=row["network"],
            basis=basis,
        )

    @strawberry.field
    async def member(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.member_key)

    @strawberry.field
    async def network(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.network_key)

    @strawberry.field(description="The roles the member holds in this network.")
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
    ) -> Connection[Role]:
        basis = await basis_for(info, When(as_of, during, known_at, at_position), self.basis)
        rows = await ROLES_OF.load(info.context, basis, self.member_key)
        held = [r for r in rows_in_key_order(rows) if r["network"] == self.network_key]
        paging = Paging(first, after, last, before)
        return connection_of(info, held, lambda r: Role.from_row(r, basis), paging)


@strawberry.type
class Role(Recorded):
    """A position a member holds in a network or one of its bodies for a period."""

    kind_of_record = ObjectKind.ROLE
    key_field = "role_id"

    role_id: str
    title: str = strawberry.field(description='The position held: "vice chair", "member".')
    holder_title: str | None = strawberry.field(
        description='Who held it, as the source names them: "Governor of Tokyo".'
    )
    since: PartialDate | None
    until: PartialDate | None
    held_as_of: PartialDate | None = strawberry.field(
        description="A date the source attests the role held on, when its start is unknown."
    )
    notes: list[str]
    certain: bool = strawberry.field(description=CERTAIN)
    recorded_at: datetime
    holder_key: strawberry.Private[str]
    network_key: strawberry.Private[str]
    body_key: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Role:
        return cls(
            id=global_id("Role", row["key"]),
            role_id=row["key"],
            title=row["position"],
            holder_title=row["holder_title"],
            since=partial_date(row["valid_from"]),
            until=partial_date(row["valid_to"]),
            held_as_of=partial_date(row["held_as_of"]),
            notes=row["notes"],
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            holder_key=row["holder"],
            network_key=row["network"],
            body_key=row["body"],
            basis=basis,
        )

    @strawberry.field
    async def holder(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.holder_key)

    @strawberry.field
    async def network(self, info: Info) -> Partner | None:
        return await partner(info, self.basis, self.network_key)

    @strawberry.field
    async def body(self, info: Info) -> Body | None:
        return await body(info, self.basis, self.network_key, self.body_key)


async def body(info: Info, basis: Basis, network: str | None, key: str | None) -> Body | None:
    """A network's body by its key (as the record stands at the basis position)."""
    if network is None or key is None:
        return None
    row = await BODY.load(info.context, basis.on_record(), body_key(network, key))
    return Body.from_row(row, basis) if row else None
