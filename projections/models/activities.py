"""Activities (workshops, meetings, events) and the partners taking part in each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text

from domain.events import ActivityCorrected, ActivityRecorded, ActivityRetracted
from projections.framework import Folded, Projector, Touch
from projections.models.metadata import read_metadata
from projections.versions import Rows, Stamp, as_text, valid_period, versioned_table

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

    BY = {"activity_participants": ("activity",)}

    def touches(self, decoded: Any) -> list[Touch]:
        return [
            ("activities", "key", decoded.key),
            ("activity_participants", "activity", decoded.key),
        ]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table, taking_part = rows["activities"], rows["activity_participants"]
        match decoded:
            case ActivityRecorded():
                table.open_version(decoded.key, activity_values(decoded), event)
                self._participants(taking_part, decoded, event)
            case ActivityCorrected():
                table.revise(decoded.key, activity_values(decoded), event)
                taking_part.close_where("activity", decoded.key, event)
                self._participants(taking_part, decoded, event)
            case ActivityRetracted():
                table.close(decoded.key, event)
                taking_part.close_where("activity", decoded.key, event)
            case _:
                self.unhandled(decoded)

    def _participants(
        self, table: Rows, decoded: ActivityRecorded | ActivityCorrected, event: Stamp
    ) -> None:
        """One row per partner taking part (the organiser too), on the activity's date."""
        partners = dict.fromkeys(p for p in [decoded.organiser, *decoded.participants] if p)
        for partner in partners:
            values = {
                "activity": decoded.key,
                "partner": partner,
                **valid_period(decoded.on, decoded.on),
            }
            table.open_version(f"{decoded.key}/{partner}", values, event)
