"""Memberships: a member in a network over a period."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import (
    MembershipCorrected,
    MembershipEnded,
    MembershipRetracted,
    MembershipStarted,
)
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records
from projections.models.metadata import read_metadata
from projections.versions import Rows, Stamp, as_text, valid_end, valid_period, versioned_table

memberships = versioned_table(
    "memberships",
    read_metadata,
    Column("member", String(100), nullable=False),
    Column("network", String(100), nullable=False),
    Column("notes", Text, nullable=False),
    # A network's page reads its rows in key order and filters on both periods: the index
    # holds them in that order with the columns filtered on (bench/temporal.py).
    Index(
        "ix_memberships_network",
        "network",
        "key",
        "slice",
        "record_to",
        "record_from",
        "valid_from_lo",
        "valid_to_hi",
    ),
    Index("ix_memberships_member", "member", "record_from", "record_to"),
)


class MembershipsProjector(Projector):
    name = "memberships"
    TABLES = (memberships,)
    handles = frozenset(
        {MembershipStarted, MembershipEnded, MembershipCorrected, MembershipRetracted}
    )

    folds_in_database = True

    def touches(self, decoded: Any) -> list[Touch]:
        return [("memberships", "key", decoded.membership_id)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table: Rows = rows["memberships"]
        match decoded:
            case MembershipStarted():
                values = {
                    "member": decoded.member,
                    "network": decoded.network,
                    "notes": as_text(decoded.notes),
                    **valid_period(decoded.since, None),
                }
                table.open_version(decoded.membership_id, values, event)
            case MembershipEnded():
                table.revise(decoded.membership_id, valid_end(decoded.until), event)
            case MembershipCorrected():
                values = {
                    "notes": as_text(decoded.notes),
                    **valid_period(decoded.since, decoded.until),
                }
                table.revise(decoded.membership_id, values, event)
            case MembershipRetracted():
                table.close(decoded.membership_id, event)
            case _:
                self.unhandled(decoded)

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as one INSERT ... SELECT: a membership's events
        from its start up to its first retraction, each but the retraction a version whose
        record period ends at the next (LEAD); notes and start from the last start or
        correction before it, the end from the event itself (an end or a correction sets
        it, a start leaves it open). Only where each membership starts once."""
        events = "SELECT key, position, type, recorded_at FROM {log}"
        memberships = Records(
            self.tables["memberships"],
            events,
            started=STARTED,
            sets=[STARTED, CORRECTED],
            dated=[STARTED, CORRECTED],
            ends=[MembershipEnded.__name__, CORRECTED],
            retracted=RETRACTED,
            own=["s.member", "s.network", "f.notes"],
        )
        return await fold_records(connection, types, self.handled, until, _FIELDS, [memberships])


_FIELDS = {
    "key": ("membership_id", "text"),
    "since": ("since", "text"),
    "until": ("until", "text"),
    "notes": ("notes", "json"),
    "member": ("member", "text"),
    "network": ("network", "text"),
}
STARTED, CORRECTED, RETRACTED = (
    MembershipStarted.__name__,
    MembershipCorrected.__name__,
    MembershipRetracted.__name__,
)
