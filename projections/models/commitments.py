"""Commitments: what was announced, by whom, at which activity, with its focus areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import CommitmentAnnounced, CommitmentCorrected, CommitmentRetracted
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records
from projections.models.metadata import read_metadata
from projections.versions import Stamp, as_text, valid_period, versioned_table

commitments = versioned_table(
    "commitments",
    read_metadata,
    Column("by", String(100), nullable=False),
    Column("by_title", String(200)),
    Column("activity", String(100)),
    Column("statement", Text, nullable=False),
    Column("focus_areas", Text, nullable=False),
    Column("collaborators", Text, nullable=False),
    Index("ix_commitments_by", "by", "record_to"),
    Index("ix_commitments_activity", "activity", "record_to"),
)


def commitment_values(event: CommitmentAnnounced | CommitmentCorrected) -> dict[str, Any]:
    return {
        "by": event.by,
        "by_title": event.by_title,
        "activity": event.activity,
        "statement": event.statement,
        "focus_areas": as_text(event.focus_areas),
        "collaborators": as_text(event.collaborators),
        # A commitment stands from the day it was announced.
        **valid_period(event.on, None),
    }


class CommitmentsProjector(Projector):
    name = "commitments"
    TABLES = (commitments,)
    handles = frozenset({CommitmentAnnounced, CommitmentCorrected, CommitmentRetracted})

    folds_in_database = True

    def touches(self, decoded: Any) -> list[Touch]:
        return [("commitments", "key", decoded.key)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table = rows["commitments"]
        match decoded:
            case CommitmentAnnounced():
                values = commitment_values(decoded)
                table.open_version(decoded.key, values, event)
            case CommitmentCorrected():
                table.revise(decoded.key, commitment_values(decoded), event)
            case CommitmentRetracted():
                table.close(decoded.key, event)
            case _:
                self.unhandled(decoded)

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as one INSERT ... SELECT (projections.in_database
        .versions): a commitment's values and start (its day) from its announcement or last
        correction, open-ended, until its retraction. Only where each commitment is
        announced once."""
        commitments = Records(
            self.tables["commitments"],
            "SELECT key, position, type, recorded_at FROM {log}",
            started=ANNOUNCED,
            sets=[ANNOUNCED, CORRECTED],
            dated=[ANNOUNCED, CORRECTED],
            ends=[],
            retracted=CommitmentRetracted.__name__,
            own=[f"f.{name}" for name in _VALUES],
            until="NULL",  # open: nothing ends it
        )
        return await fold_records(connection, types, self.handled, until, _FIELDS, [commitments])


# The payload's `by` is kept as by_key: BY is a reserved word.
_VALUES = ["by_key", "by_title", "activity", "statement", "focus_areas", "collaborators"]
_FIELDS = {
    "key": ("key", "text"),
    "since": ("on", "text"),
    "by_key": ("by", "text"),
    "by_title": ("by_title", "text"),
    "activity": ("activity", "text"),
    "statement": ("statement", "text"),
    "focus_areas": ("focus_areas", "json"),
    "collaborators": ("collaborators", "json"),
}
ANNOUNCED, CORRECTED = CommitmentAnnounced.__name__, CommitmentCorrected.__name__
