"""Commitments: what was announced, by whom, at which activity, with its focus areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import CommitmentAnnounced, CommitmentCorrected, CommitmentRetracted
from events.model import RecordedEvent
from projections.framework import Projector
from projections.models.metadata import read_metadata
from projections.versions import (
    as_text,
    close_versions,
    open_version,
    revise,
    valid_period,
    versioned_table,
)

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

    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        table = self.table("commitments")
        match decoded:
            case CommitmentAnnounced():
                values = commitment_values(decoded)
                await open_version(connection, table, decoded.key, values, event)
            case CommitmentCorrected():
                await revise(connection, table, decoded.key, commitment_values(decoded), event)
            case CommitmentRetracted():
                await close_versions(connection, table, decoded.key, event)
            case _:
                self.unhandled(decoded)
