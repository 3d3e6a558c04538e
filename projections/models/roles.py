"""Roles held in networks and their bodies; the bodies and their recorded sizes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import (
    BodyRegistered,
    BodySizeRecorded,
    RoleAssigned,
    RoleCorrected,
    RoleEnded,
    RoleRetracted,
)
from domain.ids import body_key
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records
from projections.models.metadata import read_metadata
from projections.versions import Stamp, as_text, valid_end, valid_period, versioned_table

roles = versioned_table(
    "roles",
    read_metadata,
    Column("holder", String(100), nullable=False),
    Column("network", String(100), nullable=False),
    Column("body", String(100)),
    Column("position", String(200), nullable=False),
    Column("holder_title", String(200)),
    Column("held_as_of", String(10)),
    Column("notes", Text, nullable=False),
    Index("ix_roles_network", "network", "record_from", "record_to"),
    Index("ix_roles_holder", "holder", "record_from", "record_to"),
)

bodies = versioned_table(
    "bodies",
    read_metadata,
    Column("network", String(100), nullable=False),
    Column("body", String(100), nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text),
    Column("size", Integer),
    Column("size_as_of", String(10)),
    Index("ix_bodies_network", "network", "record_to"),
)


def role_values(event: RoleAssigned | RoleCorrected) -> dict[str, Any]:
    return {
        "holder": event.holder,
        "network": event.network,
        "body": event.body,
        "position": event.position,
        "holder_title": event.holder_title,
        "held_as_of": str(event.held_as_of) if event.held_as_of else None,
        "notes": as_text(event.notes),
    }


class RolesProjector(Projector):
    name = "roles"
    TABLES = (roles, bodies)
    handles = frozenset(
        {RoleAssigned, RoleEnded, RoleCorrected, RoleRetracted, BodyRegistered, BodySizeRecorded}
    )

    folds_in_database = True

    def touches(self, decoded: Any) -> list[Touch]:
        match decoded:
            case BodyRegistered() | BodySizeRecorded():
                return [("bodies", "key", body_key(decoded.network, decoded.body))]
            case _:
                return [("roles", "key", decoded.role_id)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table = rows["roles"]
        match decoded:
            case RoleAssigned():
                values = {**role_values(decoded), **valid_period(decoded.since, None)}
                table.open_version(decoded.role_id, values, event)
            case RoleEnded():
                table.revise(decoded.role_id, valid_end(decoded.until), event)
            case RoleCorrected():
                values = {**role_values(decoded), **valid_period(decoded.since, decoded.until)}
                table.revise(decoded.role_id, values, event)
            case RoleRetracted():
                table.close(decoded.role_id, event)
            case BodyRegistered():
                values = {
                    "network": decoded.network,
                    "body": decoded.body,
                    "name": decoded.name,
                    "description": decoded.description,
                    **valid_period(None, None),
                }
                key = body_key(decoded.network, decoded.body)
                rows["bodies"].open_version(key, values, event)
            case BodySizeRecorded():
                size = {"size": decoded.size, "size_as_of": str(decoded.as_of)}
                key = body_key(decoded.network, decoded.body)
                rows["bodies"].revise(key, size, event)
            case _:
                self.unhandled(decoded)

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as two INSERT ... SELECTs (projections.in_database
        .versions): roles as their assignments, ends, corrections and retractions give them;
        bodies as registered, each size recorded a new version with the last size. Only
        where each role is assigned once and each body registered once."""
        roles = Records(
            self.tables["roles"],
            "SELECT key, position, type, recorded_at FROM {log}"
            f" WHERE type IN ('{ASSIGNED}', '{ENDED}', '{CORRECTED}', '{RETRACTED}')",
            started=ASSIGNED,
            sets=[ASSIGNED, CORRECTED],
            dated=[ASSIGNED, CORRECTED],
            ends=[ENDED, CORRECTED],
            retracted=RETRACTED,
            own=[f"f.{name}" for name in _ROLE_VALUES],
        )
        bodies = Records(
            self.tables["bodies"],
            "SELECT network || '.' || body AS key, position, type, recorded_at FROM {log}"
            f" WHERE type IN ('{REGISTERED}', '{SIZED}')",
            started=REGISTERED,
            sets=[REGISTERED],
            dated=[],
            ends=[],
            retracted=None,
            own=[
                "s.network",
                "s.body",
                "s.name",
                "s.description",
                "CAST(z.size AS INTEGER)",
                "z.as_of",
            ],
            latest={"z": SIZED},
        )
        return await fold_records(connection, types, self.handled, until, _FIELDS, [roles, bodies])


# The role's own `position` field is kept as role_position: position is the log's.
_ROLE_VALUES = [
    "holder",
    "network",
    "body",
    "role_position",
    "holder_title",
    "held_as_of",
    "notes",
]
_FIELDS = {
    "key": ("role_id", "text"),
    "since": ("since", "text"),
    "until": ("until", "text"),
    **{name: (name, "text") for name in _ROLE_VALUES if name not in ("role_position", "notes")},
    "role_position": ("position", "text"),
    "notes": ("notes", "json"),
    "name": ("name", "text"),
    "description": ("description", "text"),
    "size": ("size", "text"),
    "as_of": ("as_of", "text"),
}
ASSIGNED, ENDED, CORRECTED, RETRACTED, REGISTERED, SIZED = (
    RoleAssigned.__name__,
    RoleEnded.__name__,
    RoleCorrected.__name__,
    RoleRetracted.__name__,
    BodyRegistered.__name__,
    BodySizeRecorded.__name__,
)
