"""Relay's Node: global ids and the provenance every object can show."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Any, ClassVar, cast

import strawberry
from strawberry.scalars import JSON

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from projections.queries.history import Provenance as ProvenanceRow
from projections.queries.history import made_or_ended
from schema.context import Info, check_may_audit
from schema.errors import bad_input
from schema.loaders import VERSIONS, load_provenance
from schema.pagination import Connection, Paging, connection_of
from schema.scalars import partial_date


def global_id(type_name: str, key: str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, str]:
    try:
        type_name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        type_name, key = "", ""
    if not type_name or not key:
        raise bad_input(f"{value!r} is not an id this API gave out")
    return type_name, key


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class SourceReference:
    """Where a fact came from: a document (a registered source's key) and a section."""

    document: str
    section: str | None


@strawberry.type
class Provenance:
    """One event behind a fact."""

    position: int
    type: str
    stream_id: str
    recorded_at: datetime
    reason: str | None
    source: SourceReference | None
    _actor: strawberry.Private[str | None]

    @strawberry.field(description="Who recorded it (auditor and admin roles only).")
    def actor(self, info: Info) -> str | None:
        check_may_audit(info, "who recorded a fact")
        return self._actor

    @classmethod
    def of(cls, made_by: ProvenanceRow) -> Provenance:
        source = made_by.source
        return cls(
            position=made_by.position,
            type=made_by.type,
            stream_id=made_by.stream_id,
            recorded_at=made_by.recorded_at,
            reason=made_by.reason,
            source=SourceReference(document=source["document"], section=source.get("section"))
            if source
            else None,
            _actor=made_by.actor,
        )


@strawberry.type
class Version:
    """One version of an object: what the record said, over which periods, and why. The
    record held it from `position` (at `recordedAt`) until `supersededAtPosition` (at
    `supersededAt`), when a later event corrected, changed or retracted it."""

    valid_from: PartialDate | None
    valid_to: PartialDate | None
    position: int = strawberry.field(description="The log position of the event that made it.")
    recorded_at: datetime
    superseded_at_position: int | None = strawberry.field(
        description="The log position from which the record no longer says this (null: it does)."
    )
    superseded_at: datetime | None
    event_type: str
    values: JSON
    _closed_by: strawberry.Private[int | None]
    _slice: strawberry.Private[int]

    @strawberry.field(description="The event that made this version.")
    async def made_by(self, info: Info) -> Provenance | None:
        found = await load_provenance(info.context, self.position)
        return Provenance.of(found) if found else None

    @strawberry.field(
        description="The event that ended this version in the record: a correction, a change,"
        " or a retraction (null while the record still says it)."
    )
    async def superseded_by(self, info: Info) -> Provenance | None:
        if self._closed_by is None:
            return None
        found = await load_provenance(info.context, self._closed_by)
        return Provenance.of(found) if found else None

    @classmethod
    def of(cls, row: Row) -> Version:
        hidden = {
            "valid_from_lo",
            "valid_from_hi",
            "valid_to_lo",
            "valid_to_hi",
            "certain",
            "made_by",
            "closed_by",
        }
        values = {k: _json(v) for k, v in row.items() if k not in hidden}
        return cls(
            valid_from=_partial(row["valid_from"]),
            valid_to=_partial(row["valid_to"]),
            position=row["record_from"],
            recorded_at=row["recorded_from"],
            superseded_at_position=row["record_to"],
            superseded_at=row["recorded_to"],
            event_type=row["event_type"],
            values=cast(JSON, values),
            _closed_by=row["record_to"],
            _slice=row["slice"],
        )


def version_cursor(version: Version) -> str:
    """Versions in record order: by the position that made them, then their slice."""
    return f"{version.position:020d}.{version._slice:06d}"


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _partial(text: str | None) -> PartialDate | None:
    return partial_date(text)


async def versions(info: Info, kind: ObjectKind, key: str, basis: Basis) -> list[Version]:
    rows = await VERSIONS[kind].load(info.context, basis.on_record(), key)
    return [Version.of(row) for row in rows]


async def provenance(info: Info, kind: ObjectKind, key: str, basis: Basis) -> list[Provenance]:
    """Every event that made or ended a version of the object (a correction, a retraction),
    up to the basis position, oldest first."""
    periods = [
        (v.position, v.superseded_at_position) for v in await versions(info, kind, key, basis)
    ]
    positions = made_or_ended(periods, basis.position)
    found = await asyncio.gather(*(load_provenance(info.context, p) for p in positions))
    return [Provenance.of(made) for made in found if made is not None]


def provenance_cursor(made: Provenance) -> str:
    return f"{made.position:020d}"


async def source_of(info: Info, position: int) -> SourceReference | None:
    made_by = await load_provenance(info.context, position)
    if made_by is None or not made_by.source:
        return None
    return SourceReference(
        document=made_by.source["document"], section=made_by.source.get("section")
    )


@strawberry.interface(
    description="An object of the record: where its current version came from, every version"
    " behind it, and the events that made them."
)
class Recorded(Node):
    position: int = strawberry.field(
        description="The log position of the event that made this version."
    )
    # Each object type says which kind of object it is and which field holds its key.
    kind_of_record: ClassVar[ObjectKind]
    key_field: ClassVar[str] = "key"
    basis: strawberry.Private[Basis]

    def record_key(self) -> str:
        """The key its versions are kept under."""
        return str(getattr(self, self.key_field))

    @strawberry.field(description="Where the current version of this fact came from.")
    async def source(self, info: Info) -> SourceReference | None:
        return await source_of(info, self.position)

    @strawberry.field(description="Every version of this object, up to the basis position.")
    async def history(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Version]:
        found = await versions(info, self.kind_of_record, self.record_key(), self.basis)
        paging = Paging(first, after, last, before)
        return connection_of(info, found, lambda version: version, paging, version_cursor)

    @strawberry.field(
        description="The events that made this object's record, oldest first: what recorded,"
        " changed, corrected or retracted it."
    )
    async def provenance(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Provenance]:
        found = await provenance(info, self.kind_of_record, self.record_key(), self.basis)
        paging = Paging(first, after, last, before)
        return connection_of(info, found, lambda made: made, paging, provenance_cursor)
