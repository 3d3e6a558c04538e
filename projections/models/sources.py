"""Sources: the documents facts come from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import SourceRegistered
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records
from projections.models.metadata import read_metadata
from projections.versions import Stamp, as_text, valid_period, versioned_table

sources = versioned_table(
    "sources",
    read_metadata,
    Column("title", String(500), nullable=False),
    Column("publisher", String(300)),
    Column("url", String(1000)),
    Column("sections", Text, nullable=False),
)


class SourcesProjector(Projector):
    name = "sources"
    TABLES = (sources,)
    handles = frozenset({SourceRegistered})

    folds_in_database = True

    def touches(self, decoded: Any) -> list[Touch]:
        return [("sources", "key", decoded.key)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        match decoded:
            case SourceRegistered():
                values = {
                    "title": decoded.title,
                    "publisher": decoded.publisher,
                    "url": decoded.url,
                    "sections": as_text(decoded.sections),
                    **valid_period(None, None),
                }
                rows["sources"].open_version(decoded.key, values, event)
            case _:
                self.unhandled(decoded)

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as one INSERT ... SELECT (projections.in_database
        .versions): a source as registered, undated, open. Only where each source is
        registered once."""
        sources = Records(
            self.tables["sources"],
            "SELECT key, position, type, recorded_at FROM {log}",
            started=REGISTERED,
            sets=[REGISTERED],
            dated=[],
            ends=[],
            retracted=None,
            own=[f"s.{name}" for name in _FIELDS if name != "key"],
            until="NULL",  # open: nothing ends it
        )
        return await fold_records(connection, types, self.handled, until, _FIELDS, [sources])


_FIELDS = {
    "key": ("key", "text"),
    "title": ("title", "text"),
    "publisher": ("publisher", "text"),
    "url": ("url", "text"),
    "sections": ("sections", "json"),
}
REGISTERED = SourceRegistered.__name__
