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
from projections.in_database import (
    Dialect,
    columns,
    current_versions_only,
    dialect_of,
    extracted,
)
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

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as one INSERT ... SELECT: a membership's events
        from its start up to its first retraction, each but the retraction a version whose
        record period ends at the next (LEAD); notes and start from the last start or
        correction before it, the end from the event itself (an end or a correction sets
        it, a start leaves it open). Only where each membership starts once."""
        names = sorted(self.handled)
        if not await current_versions_only(connection, types, names, until):
            return False
        table = self.tables["memberships"]
        async with extracted(connection, "membership_log", names, until, _FIELDS) as log:
            twice = (
                f"SELECT key FROM {log} WHERE type = '{STARTED}' GROUP BY key HAVING count(*) > 1"
            )
            if (await connection.exec_driver_sql(twice)).first() is not None:
                return False
            select = _versions(dialect_of(connection), log)
            await connection.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({columns(table)}) {select}'
            )
        return True


_FIELDS = {
    "key": ("membership_id", "text"),
    "since": ("since", "text"),
    "until": ("until", "text"),
    "notes": ("notes", "json"),
    "member": ("member", "text"),
    "network": ("network", "text"),
}


def _versions(sql: Dialect, log: str) -> str:
    # One pass of window functions over narrow rows, by key in log order: where the record
    # period ends (the key's next event), which start the event follows, which start or
    # correction set the notes and start it carries, and the last retraction so far; then
    # the wide values looked up by position.
    return f"""
WITH p AS (
  SELECT position, type,
    lead(position) OVER w AS record_to,
    max(CASE WHEN type = '{STARTED}' THEN position END) OVER w AS start_at,
    max(CASE WHEN type <> '{ENDED}' THEN position END) OVER w AS set_at,
    max(CASE WHEN type = '{RETRACTED}' THEN position END) OVER w AS retracted_at
  FROM {log} WINDOW w AS (PARTITION BY key ORDER BY position)
)
SELECT c.key, {", ".join(sql.period_start("f.since"))}, {", ".join(sql.period_end("c.until"))},
  c.position, 0, p.record_to, c.recorded_at, n.recorded_at, c.type,
  s.member, s.network, f.notes
FROM p
JOIN {log} c ON c.position = p.position
JOIN {log} f ON f.position = p.set_at
JOIN {log} s ON s.position = p.start_at
LEFT JOIN {log} n ON n.position = p.record_to
WHERE p.type <> '{RETRACTED}' AND (p.retracted_at IS NULL OR p.retracted_at < p.start_at)"""


STARTED, ENDED, RETRACTED = (
    MembershipStarted.__name__,
    MembershipEnded.__name__,
    MembershipRetracted.__name__,
)
