"""Memberships: a member in a network over a period."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text

from domain.events import (
    MembershipCorrected,
    MembershipEnded,
    MembershipRetracted,
    MembershipStarted,
)
from projections.framework import Folded, Projector, Touch
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
