"""Sources: the documents facts come from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String, Text

from domain.events import SourceRegistered
from projections.framework import Folded, Projector, Touch
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
