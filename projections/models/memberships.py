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

    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        table = self.table("memberships")
        match decoded:
            case MembershipStarted():
                values = {
                    "member": decoded.member,
                    "network": decoded.network,
                    "notes": as_text(decoded.notes),
                    **valid_period(decoded.since, None),
                }
                await open_version(connection, table, decoded.membership_id, values, event)
            case MembershipEnded():
                period = valid_period(None, decoded.until)
                ends = {k: v for k, v in period.items() if k.startswith("valid_to")}
                await revise(connection, table, decoded.membership_id, ends, event)
            case MembershipCorrected():
                values = {
                    "notes": as_text(decoded.notes),
                    **valid_period(decoded.since, decoded.until),
                }
                await revise(connection, table, decoded.membership_id, values, event)
            case MembershipRetracted():
                await close_versions(connection, table, decoded.membership_id, event)
            case _:
                self.unhandled(decoded)
