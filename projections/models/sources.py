"""Sources: the documents facts come from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import SourceRegistered
from events.model import RecordedEvent
from projections.framework import Projector
from projections.models.metadata import read_metadata
from projections.versions import as_text, open_version, valid_period, versioned_table

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

    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        match decoded:
            case SourceRegistered():
                values = {
                    "title": decoded.title,
                    "publisher": decoded.publisher,
                    "url": decoded.url,
                    "sections": as_text(decoded.sections),
                    **valid_period(None, None),
                }
                await open_version(connection, self.table("sources"), decoded.key, values, event)
            case _:
                self.unhandled(decoded)
