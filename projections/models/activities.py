"""Activities (workshops, meetings, events) and the partners taking part in each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import ActivityCorrected, ActivityRecorded, ActivityRetracted
from events.model import RecordedEvent
from projections.framework import Projector
from projections.models.metadata import read_metadata
from projections.versions import (
    as_text,
    close_versions,
    close_where,
    open_version,
    revise,
    valid_period,
    versioned_table,
)

activities = versioned_table(
    "activities",
    read_metadata,
    Column("name", String(300), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("mode", String(50)),
    Column("field", String(100)),
    Column("organiser", String(100)),
    Column("participants", Text, nullable=False),
    Column("representatives", Text, nullable=False),
    Column("network", String(100)),
    Column("body", String(100)),
    Column("program", String(100)),
    Column("description", Text),
    Index("ix_activities_on", "valid_from_lo", "record_to"),
    Index("ix_activities_network", "network", "record_to"),
    Index("ix_activities_program", "program", "record_to"),
)

activity_participants = versioned_table(
    "activity_participants",
    read_metadata,
    Column("activity", String(100), nullable=False),
    Column("partner", String(100), nullable=False),
    Index("ix_activity_participants_partner", "partner", "record_from", "record_to"),
    Index("ix_activity_participants_activity", "activity", "record_from", "record_to"),
)


def activity_values(event: ActivityRecorded | ActivityCorrected) -> dict[str, Any]:
    return {
        "name": event.name,
        "kind": event.kind,
        "mode": event.mode,
        "field": event.field,
        "organiser": event.organiser,
        "participants": as_text(event.participants),
        "representatives": as_text(event.representatives),
        "network": event.network,
        "body": event.body,
        "program": event.program,
        "description": event.description,
        # An activity holds on its one (perhaps partial) date.
        **valid_period(event.on, event.on),
    }


class ActivitiesProjector(Projector):
    name = "activities"
    TABLES = (activities, activity_participants)
    handles = frozenset({ActivityRecorded, ActivityCorrected, ActivityRetracted})

    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        table = self.table("activities")
        match decoded:
            case ActivityRecorded():
                await open_version(connection, table, decoded.key, activity_values(decoded), event)
                await self._participants(connection, decoded, event)
            case ActivityCorrected():
                await revise(connection, table, decoded.key, activity_values(decoded), event)
                taking_part = self.table("activity_participants")
                await close_where(
                    connection, taking_part, taking_part.c.activity == decoded.key, event
                )
                await self._participants(connection, decoded, event)
            case ActivityRetracted():
                await close_versions(connection, table, decoded.key, event)
                taking_part = self.table("activity_participants")
                await close_where(
                    connection, taking_part, taking_part.c.activity == decoded.key, event
                )
            case _:
                self.unhandled(decoded)

    async def _participants(
        self,
        connection: AsyncConnection,
        decoded: ActivityRecorded | ActivityCorrected,
        event: RecordedEvent,
    ) -> None:
        """One row per partner taking part (the organiser too), on the activity's date."""
        table = self.table("activity_participants")
        partners = dict.fromkeys(p for p in [decoded.organiser, *decoded.participants] if p)
        for partner in partners:
            values = {
                "activity": decoded.key,
                "partner": partner,
                **valid_period(decoded.on, decoded.on),
            }
            await open_version(connection, table, f"{decoded.key}/{partner}", values, event)
