"""Source: a document the record's facts come from."""

from __future__ import annotations

from datetime import datetime

import strawberry

from projections.queries.basis import Row
from schema.nodes import Node, global_id


@strawberry.type
class Source(Node):
    key: str
    title: str
    publisher: str | None
    url: str | None
    sections: list[str]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Source:
        return cls(
            id=global_id("Source", row["key"]),
            key=row["key"],
            title=row["title"],
            publisher=row["publisher"],
            url=row["url"],
            sections=row["sections"],
            recorded_at=row["recorded_from"],
        )
