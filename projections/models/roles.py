"""Roles held in networks and their bodies; the bodies and their recorded sizes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, Integer, String, Text

from domain.events import (
    BodyRegistered,
    BodySizeRecorded,
    RoleAssigned,
    RoleCorrected,
    RoleEnded,
    RoleRetracted,
)
from domain.ids import body_key
from projections.framework import Folded, Projector, Touch
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
