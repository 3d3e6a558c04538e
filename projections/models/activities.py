"""Activities (workshops, meetings, events) and the partners taking part in each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import ActivityCorrected, ActivityRecorded, ActivityRetracted
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Dialect, Records, fold_records, quoted
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
    folds_in_database = True

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

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as two INSERT ... SELECTs: activities by
        projections.in_database.versions, each on its one date from its recording or last
        correction until its retraction; a partner taking part (organiser or participant)
        from each recording or correction that names it, until the activity's next
        correction or retraction. Only where each activity is recorded once."""
        activities = Records(
            self.tables["activities"],
            "SELECT key, position, type, recorded_at FROM {log}",
            started=RECORDED,
            sets=[RECORDED, CORRECTED],
            dated=[RECORDED, CORRECTED],
            ends=[],
            retracted=RETRACTED,
            own=[f"f.{name}" for name in _VALUES],
            # An activity holds on its date: its end is its start's date.
            until="f.since",
        )
        participants = Records(
            self.tables["activity_participants"],
            "SELECT key, position, type, recorded_at FROM {log}",
            started=RECORDED,
            sets=[],
            dated=[],
            ends=[],
            retracted=RETRACTED,
            own=[],
            # A correction closes its activity's partners and opens those it names: one
            # no longer named ends without a next version, which `versions` cannot say.
            select=_taking_part,
        )
        return await fold_records(
            connection, types, self.handled, until, _FIELDS, [activities, participants]
        )


def _taking_part(sql: Dialect, events: str, log: str) -> str:
    """The versions of activity_participants, as `_participants` opens them and a later
    correction or retraction of the activity closes them (in Python, one whose activity
    is not, or no longer, recorded opens them too): one a distinct partner named by a
    recording or correction, from it until the activity's next correction or retraction."""
    each = (
        "json_array_elements_text(e.participants::json) AS x(value)"
        if sql.postgres
        else "json_each(e.participants) AS x"
    )
    opening = f"type IN ('{RECORDED}', '{CORRECTED}')"
    return f"""
WITH named AS (
  SELECT position, organiser AS partner FROM {log} WHERE {opening} AND organiser <> ''
  UNION
  SELECT e.position, x.value FROM {log} e, {each} WHERE e.{opening} AND x.value <> ''
), opened AS (
  SELECT position, min(CASE WHEN type IN ({quoted(_CLOSING)}) THEN position END) OVER (
    PARTITION BY key ORDER BY position ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
  ) AS closed_at
  FROM {log}
)
SELECT e.key || '/' || n.partner, {", ".join(sql.period_start("e.since"))},
  {", ".join(sql.period_end("e.since"))}, e.position, 0, o.closed_at, e.recorded_at,
  c.recorded_at, e.type, e.key, n.partner
FROM named n
JOIN {log} e ON e.position = n.position
JOIN opened o ON o.position = n.position
LEFT JOIN {log} c ON c.position = o.closed_at"""


_VALUES = Rows(activities).own
"""The table's own columns, each its payload field."""
_FIELDS = {
    "key": ("key", "text"),
    "since": ("on", "text"),
    **{
        name: (name, "json" if name in ("participants", "representatives") else "text")
        for name in _VALUES
    },
}
RECORDED, CORRECTED, RETRACTED = (
    ActivityRecorded.__name__,
    ActivityCorrected.__name__,
    ActivityRetracted.__name__,
)
_CLOSING = [CORRECTED, RETRACTED]
