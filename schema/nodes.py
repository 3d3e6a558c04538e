"""Relay's Node: global ids and the provenance every object can show."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from projections.queries.history import Provenance as ProvenanceRow
from schema.context import Info, check_may_audit
from schema.errors import bad_input
from schema.loaders import VERSIONS, load_provenance
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
    """One version of an object: what the record said, over which periods, and why."""

    valid_from: PartialDate | None
    valid_to: PartialDate | None
    record_from: int
    record_to: int | None
    recorded_from: datetime
    recorded_to: datetime | None
    event_type: str
    values: JSON
    _position: strawberry.Private[int]

    @strawberry.field(description="The event that opened this version.")
    async def made_by(self, info: Info) -> Provenance | None:
        found = await load_provenance(info.context, self._position)
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
        }
        values = {k: _json(v) for k, v in row.items() if k not in hidden}
        return cls(
            valid_from=_partial(row["valid_from"]),
            valid_to=_partial(row["valid_to"]),
            record_from=row["record_from"],
            record_to=row["record_to"],
            recorded_from=row["recorded_from"],
            recorded_to=row["recorded_to"],
            event_type=row["event_type"],
            values=cast(JSON, values),
            _position=row["record_from"],
        )


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _partial(text: str | None) -> PartialDate | None:
    return partial_date(text)


async def versions(info: Info, kind: ObjectKind, key: str, basis: Basis) -> list[Version]:
    rows = await VERSIONS[kind].load(info.context, Basis(None, basis.position), key)
    return [Version.of(row) for row in rows]


async def provenance(info: Info, kind: ObjectKind, key: str, basis: Basis) -> list[Provenance]:
    """Every event that made the object, up to the basis position, oldest first."""
    made = await asyncio.gather(*(v.made_by(info) for v in await versions(info, kind, key, basis)))
    return [found for found in made if found is not None]


async def source_of(info: Info, position: int) -> SourceReference | None:
    made_by = await load_provenance(info.context, position)
    if made_by is None or not made_by.source:
        return None
    return SourceReference(
        document=made_by.source["document"], section=made_by.source.get("section")
    )
