"""Each kind of object the record holds, as a GraphQL type and the loader that reads it by key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.vocabulary import ObjectKind
from projections.queries.basis import Basis, Row
from schema import loaders
from schema.activities import Activity, Commitment
from schema.memberships import Membership, Role
from schema.nodes import Node
from schema.partners import Body, Partner
from schema.programs import Participation, Program
from schema.sources import Source


@dataclass(frozen=True)
class ObjectType:
    graphql: Any  # a strawberry type with `from_row(row, basis)`
    loader: loaders.Loader[Row | None]

    @property
    def name(self) -> str:
        return str(self.graphql.__name__)

    def make(self, row: Row, basis: Basis) -> Node:
        node: Node = self.graphql.from_row(row, basis)
        return node


OBJECTS: dict[ObjectKind, ObjectType] = {
    ObjectKind.SOURCE: ObjectType(Source, loaders.SOURCE),
    ObjectKind.PARTNER: ObjectType(Partner, loaders.PARTNER),
    ObjectKind.MEMBERSHIP: ObjectType(Membership, loaders.MEMBERSHIP),
    ObjectKind.BODY: ObjectType(Body, loaders.BODY),
    ObjectKind.ROLE: ObjectType(Role, loaders.ROLE),
    ObjectKind.PROGRAM: ObjectType(Program, loaders.PROGRAM),
    ObjectKind.PARTICIPATION: ObjectType(Participation, loaders.PARTICIPATION),
    ObjectKind.ACTIVITY: ObjectType(Activity, loaders.ACTIVITY),
    ObjectKind.COMMITMENT: ObjectType(Commitment, loaders.COMMITMENT),
}
# By GraphQL type name, for global ids.
BY_NAME = {object_type.name: object_type for object_type in OBJECTS.values()}
