"""Source: a document the record's facts come from."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.vocabulary import ObjectKind
from projections.queries.basis import Basis, Row
from schema.context import Info
from schema.nodes import (
    Node,
    Provenance,
    SourceReference,
    Version,
    global_id,
    provenance,
    source_of,
    versions,
)


@strawberry.type
class Source(Node):
    key: str
    title: str
    publisher: str | None
    url: str | None
    sections: list[str]
    recorded_at: datetime
    position: int

    @classmethod
    def from_row(cls, row: Row, basis: Basis | None = None) -> Source:
        """A source as registered; sources are not dated in valid time, so `basis` is unused."""
        return cls(
            id=global_id("Source", row["key"]),
            key=row["key"],
            title=row["title"],
            publisher=row["publisher"],
            url=row["url"],
            sections=row["sections"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
        )

    @strawberry.field(description="Where the registration of this source came from.")
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this source.")
    async def history(self, info: Info) -> list[Version]:
        return await versions(info, ObjectKind.SOURCE, self.key, Basis())

    @strawberry.field(description="The events that made this source's record.")
    async def provenance(self, info: Info) -> list[Provenance]:
        return await provenance(info, ObjectKind.SOURCE, self.key, Basis())
