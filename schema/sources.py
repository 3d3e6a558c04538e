"""Source: a document the record's facts come from."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.vocabulary import ObjectKind
from projections.queries.basis import Basis, Row
from schema.nodes import Recorded, global_id


@strawberry.type
class Source(Recorded):
    """A document the record's facts are taken from, and the sections a reference may name."""

    kind_of_record = ObjectKind.SOURCE

    key: str
    title: str
    publisher: str | None
    url: str | None
    sections: list[str]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row, basis: Basis) -> Source:
        return cls(
            id=global_id("Source", row["key"]),
            key=row["key"],
            title=row["title"],
            publisher=row["publisher"],
            url=row["url"],
            sections=row["sections"],
            recorded_at=row["recorded_from"],
            position=row["record_from"],
            basis=basis,
        )
