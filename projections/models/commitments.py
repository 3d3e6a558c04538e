"""Commitments: what was announced, by whom, at which activity, with its focus areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text

from domain.events import CommitmentAnnounced, CommitmentCorrected, CommitmentRetracted
from projections.framework import Folded, Projector, Touch
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
