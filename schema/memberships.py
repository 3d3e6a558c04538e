"""Membership and Role: who belongs to which network, and who holds which position."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import strawberry

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from schema.basis import basis_for
from schema.context import Info
from schema.loaders import BODIES_OF, PARTNER, ROLES_OF, rows_in_key_order
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
from schema.partners import Body, Partner
from schema.scalars import partial_date


async def partner(info: Info, basis: Basis, key: str | None) -> Partner | None:
    """A partner by key on a basis; the current one when it is not held on that day."""
    if key is None:
        return None
    row = await PARTNER.load(info.context, basis, key)
    if row is None and basis.as_of is not None:
        # A partner's details are not dated the way memberships are: show what is on record.
        basis = Basis(None, basis.position)
        row = await PARTNER.load(info.context, basis, key)
    return Partner.from_row(row, basis) if row else None


async def partners(info: Info, basis: Basis, keys: list[str]) -> list[Partner]:
    """Partners by key, loaded together, in the order given (unknown keys left out)."""
    found = await asyncio.gather(*(partner(info, basis, key) for key in keys))
    return [p for p in found if p is not None]


@strawberry.type
class Membership(Node):
    """A member in a network over a period."""

    membership_id: str
    since: PartialDate | None
    until: PartialDate | None
    notes: list[str]
    certain: bool
    recorded_at: datetime
    position: int
    member_key: strawberry.Private[str]
    network_key: strawberry.Private[str]
    basis: strawberry.Private[Basis]

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
        known_at: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Role]:
        basis = await basis_for(info, as_of, known_at, inherited=self.basis)
        rows = await ROLES_OF.load(info.context, basis, self.member_key)
        held = [r for r in rows_in_key_order(rows) if r["network"] == self.network_key]
        return connection_of(
            info, held, lambda r: Role.from_row(r, basis), first=first, after=after
        )

    @strawberry.field(description="Where the current version of this fact came from.")
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.MEMBERSHIP, self.membership_id, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.MEMBERSHIP, self.membership_id, self.basis)


@strawberry.type
class Role(Node):
    """A position a member holds in a network or one of its bodies for a period."""

    role_id: str
    position_title: str = strawberry.field(name="position")
    holder_title: str | None
    since: PartialDate | None
    until: PartialDate | None
    held_as_of: PartialDate | None
    notes: list[str]
    certain: bool
    recorded_at: datetime
    log_position: int
    holder_key: strawberry.Private[str]
    network_key: strawberry.Private[str]
    body_key: strawberry.Private[str | None]
    basis: strawberry.Private[Basis]

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Role:
        return cls(
            id=global_id("Role", row["key"]),
            role_id=row["key"],
            position_title=row["position"],
            holder_title=row["holder_title"],
            since=partial_date(row["valid_from"]),
            until=partial_date(row["valid_to"]),
            held_as_of=partial_date(row["held_as_of"]),
            notes=row["notes"],
            certain=row["certain"],
            recorded_at=row["recorded_from"],
            log_position=row["record_from"],
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
        if self.body_key is None:
            return None
        rows = await BODIES_OF.load(info.context, self.basis, self.network_key)
        return next((Body.from_row(r) for r in rows if r["body"] == self.body_key), None)

    @strawberry.field
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.log_position)

    @strawberry.field(description="Every version of this role, up to the basis position.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.ROLE, self.role_id, self.basis)

    @strawberry.field
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.ROLE, self.role_id, self.basis)
