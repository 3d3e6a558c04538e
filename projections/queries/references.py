"""What the record holds now that refers to an object: checked before it is withdrawn."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.vocabulary import ObjectKind
from projections.models.activities import activities, activity_participants
from projections.models.commitments import commitments
from projections.models.memberships import memberships
from projections.models.programs import program_partners, programs
from projections.models.roles import bodies, roles

# For each kind of object, where other facts name it: (the kind of fact, its table, the
# columns that may hold the object's key).
REFERRING: dict[ObjectKind, list[tuple[str, Table, list[Column[Any]]]]] = {
    ObjectKind.PARTNER: [
        ("membership", memberships, [memberships.c.member, memberships.c.network]),
        ("role", roles, [roles.c.holder, roles.c.network]),
        ("body", bodies, [bodies.c.network]),
        ("program", programs, [programs.c.lead, programs.c.network]),
        ("participation", program_partners, [program_partners.c.partner]),
        ("activity", activities, [activities.c.organiser, activities.c.network]),
        ("activity participation", activity_participants, [activity_participants.c.partner]),
        ("commitment", commitments, [commitments.c.by]),
    ],
    ObjectKind.PROGRAM: [("activity", activities, [activities.c.program])],
    ObjectKind.ACTIVITY: [("commitment", commitments, [commitments.c.activity])],
}
SHOWN = 10  # a refusal names this many at most


class ReadModelReferences:
    """References found in the current rows of the read tables."""

    async def referring(self, connection: AsyncConnection, kind: ObjectKind, key: str) -> list[str]:
        found: list[str] = []
        for what, table, columns in REFERRING.get(kind, []):
            query = (
                select(table.c.key)
                .where(table.c.record_to.is_(None), or_(*(column == key for column in columns)))
                .distinct()
                .order_by(table.c.key)
                .limit(SHOWN)
            )
            found += [f"{what} {row}" for row in await connection.scalars(query)]
        if kind is ObjectKind.PARTNER:
            found += await _collaborations(connection, key)
        return found[:SHOWN]


async def _collaborations(connection: AsyncConnection, key: str) -> list[str]:
    """Commitments naming the partner among their collaborators (a JSON list of texts)."""
    query = select(commitments.c.key).where(
        commitments.c.record_to.is_(None), commitments.c.collaborators.contains(f'"{key}"')
    )
    return [f"commitment {row} (collaborator)" for row in await connection.scalars(query)]
