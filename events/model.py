"""The values the store takes and gives: new events, their metadata, recorded events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from events.errors import InvalidAppend

STREAM_ID = re.compile(r"[a-z0-9][a-z0-9_.@:-]{0,199}")


def check_stream_id(stream_id: str) -> str:
    if not isinstance(stream_id, str) or not STREAM_ID.fullmatch(stream_id):
        raise InvalidAppend(
            f"stream id {stream_id!r} is not valid: use 1-200 characters of a-z, 0-9 and _ . @ : -,"
            " starting with a letter or digit"
        )
    return stream_id


class Expect(Enum):
    """Expected versions that are not a number."""

    ANY = "any"
    NO_STREAM = "no stream yet"

    def __str__(self) -> str:
        return self.value


ExpectedVersion = int | Expect


@dataclass(frozen=True)
class SourceRef:
    """Where a fact came from: a document and, within it, a section."""

    document: str
    section: str | None = None


@dataclass(frozen=True)
class Metadata:
    """Who wrote an event, why, from which source, and as part of what."""

    actor: str = "system"
    reason: str | None = None
    source: SourceRef | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    idempotency_key: str | None = None


def metadata_problem(metadata: Mapping[str, Any]) -> str | None:
    """What keeps a recorded event's metadata from being what Coop writes and reads (an
    actor that is not text, a source that is not a document and a section), or None: its
    keys as `Metadata` types them (a key it does not know is kept, and not read)."""
    try:
        msgspec.convert(metadata, Metadata)
    except msgspec.ValidationError as error:
        return f"its metadata is invalid: {error}"
    return None


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its type name and payload; the id is made when not given."""

    type: str
    data: Mapping[str, Any]
    event_id: UUID | None = None


class RecordedEvent(msgspec.Struct, frozen=True):
    """An event as the log holds it, payload at the schema version it was written with (a
    struct: a log read or an import makes one an event, in a fifth of a frozen dataclass's
    time)."""

    position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AppendResult:
    """What an append wrote (or, for a retried request, had written the first time)."""

    stream_id: str
    stream_version: int
    first_position: int
    last_position: int
    events: tuple[RecordedEvent, ...] = field(default=())
    replayed: bool = False


@dataclass(frozen=True)
class Head:
    position: int
    hash: str
    recorded_at: datetime | None
