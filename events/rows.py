"""Rows of the events table as the values the store gives, and back."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from uuid import UUID

import msgspec

from events.chain import canonical_json, canonical_texts, timestamp_text
from events.model import AppendResult, RecordedEvent

if TYPE_CHECKING:  # no database here: an import's check builds rows in a process of its own
    from sqlalchemy import Row


class EventRow(NamedTuple):
    """A row of the events table, its values in the table's column order (for the engines'
    bulk paths, `Backend.write_rows`)."""

    position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime
    prev_hash: str
    hash: str
    subtrees: bytes | None


class SQLiteRow(NamedTuple):
    """A row of the events table as sqlite3 takes it with no adapter called: the id as
    SQLAlchemy's Uuid keeps it (`sqlite_id`), the record time as it spells a DateTime
    (`sqlite_moment`). An import's checks spell them, off the writer's thread."""

    position: int
    stream_id: str
    stream_version: int
    event_id: str
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: str
    prev_hash: str
    hash: str
    subtrees: bytes | None


def sqlite_moment(moment: datetime) -> str:
    """A time as SQLAlchemy keeps a DateTime in SQLite: naive UTC text to the microsecond,
    '2021-01-01 00:00:20.000000'."""
    text = timestamp_text(moment)
    return f"{text[:10]} {text[11:26]}"


def sqlite_id(value: UUID) -> str:
    """A UUID as SQLAlchemy's Uuid keeps it in SQLite: 32 hex digits."""
    return value.hex


# What SQLAlchemy writes in SQLite for a time and a UUID: anything else is parsed.
_SQLITE_MOMENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII)
_SQLITE_ID = re.compile(r"[0-9a-f]{32}")


def moment_text(value: str | datetime) -> str:
    """A time as `timestamp_text` spells it, from the value or from the text SQLite keeps
    for it (`sqlite_moment`)."""
    if isinstance(value, str):
        if _SQLITE_MOMENT.fullmatch(value):
            return f"{value[:10]}T{value[11:]}+00:00"
        value = datetime.fromisoformat(value)
    return timestamp_text(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def id_text(value: str | UUID) -> str:
    """A UUID as `str` spells it, from the value or from the text SQLite keeps for it
    (`sqlite_id`)."""
    if isinstance(value, str) and _SQLITE_ID.fullmatch(value):
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def sqlite_row(
    event: RecordedEvent, subtrees: bytes | None, texts: tuple[str, str] | None = None
) -> SQLiteRow:
    """`row_tuple`'s row as sqlite3 takes it with no adapter."""
    data, metadata = texts or canonical_texts(event)
    return SQLiteRow(
        event.position,
        event.stream_id,
        event.stream_version,
        sqlite_id(event.event_id),
        event.type,
        event.schema_version,
        data,
        metadata,
        sqlite_moment(event.recorded_at),
        event.prev_hash,
        event.hash,
        subtrees,
    )


def decode_json(text: str) -> dict[str, Any]:
    value = msgspec.json.decode(text)
    assert isinstance(value, dict)
    return value


def recorded_from_row(row: Row[Any]) -> RecordedEvent:
    return recorded_from_values(row._mapping)


def recorded_from_values(values: Mapping[Any, Any]) -> RecordedEvent:
    event_id = values["event_id"]
    return RecordedEvent(
        position=values["position"],
        stream_id=values["stream_id"],
        stream_version=values["stream_version"],
        # A plain UUID (a driver may give its own subclass, which others cannot take).
        event_id=event_id if type(event_id) is UUID else UUID(str(event_id)),
        type=values["type"],
        schema_version=values["schema_version"],
        data=decode_json(values["data"]),
        metadata=decode_json(values["metadata"]),
        recorded_at=values["recorded_at"],
        prev_hash=values["prev_hash"],
        hash=values["hash"],
    )


def row_values(event: RecordedEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": canonical_json(event.data),
        "metadata": canonical_json(event.metadata),
        "recorded_at": event.recorded_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def row_tuple(
    event: RecordedEvent, subtrees: bytes | None, texts: tuple[str, str] | None = None
) -> EventRow:
    """An event as a row of the events table, with the Merkle tree's `subtrees` it holds
    (`texts`: its `canonical_texts`, when at hand)."""
    data, metadata = texts or canonical_texts(event)
    return EventRow(
        event.position,
        event.stream_id,
        event.stream_version,
        event.event_id,
        event.type,
        event.schema_version,
        data,
        metadata,
        event.recorded_at,
        event.prev_hash,
        event.hash,
        subtrees,
    )


def result_of(recorded: Sequence[RecordedEvent], *, replayed: bool = False) -> AppendResult:
    return AppendResult(
        stream_id=recorded[-1].stream_id,
        stream_version=recorded[-1].stream_version,
        first_position=recorded[0].position,
        last_position=recorded[-1].position,
        events=tuple(recorded),
        replayed=replayed,
    )


class CarriedKey(NamedTuple):
    """An imported append's idempotency key, its stream and the positions it wrote."""

    key: str
    stream_id: str
    first_position: int
    last_position: int


class LogChunk(Protocol):
    """Rows of the events table handed to an import, with the idempotency keys of the
    appends they hold."""

    @property
    def rows(self) -> Sequence[EventRow | SQLiteRow]: ...

    @property
    def keys(self) -> Sequence[CarriedKey]: ...


def carried_keys(batch: Sequence[RecordedEvent]) -> list[CarriedKey]:
    """The idempotency keys of the appends in `batch` (as `appends` cuts it)."""
    return [
        CarriedKey(
            run[0].metadata["idempotency_key"], run[0].stream_id, run[0].position, run[-1].position
        )
        for run in appends(batch)
        if run[0].metadata.get("idempotency_key")
    ]


def appends(batch: Sequence[RecordedEvent]) -> list[list[RecordedEvent]]:
    """The batch cut into the appends that wrote it, as far as the log shows them: runs of
    events of one stream at consecutive positions with the same idempotency key."""
    runs: list[list[RecordedEvent]] = []
    for event in batch:
        if runs and continues(runs[-1][-1], event):
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


def may_cut(before: RecordedEvent, event: RecordedEvent) -> bool:
    """Whether a batch of an import may end between `before` and `event` (consecutive in
    the log): not within an append that carries an idempotency key, which is carried whole;
    a run with no key is cut anywhere (one stream's keyless run may be the whole log)."""
    return not continues(before, event) or event.metadata.get("idempotency_key") is None


def continues(before: RecordedEvent, event: RecordedEvent) -> bool:
    """Could `event` have been written by the same append as `before`, just before it?"""
    return (
        event.stream_id == before.stream_id
        and event.position == before.position + 1
        and event.metadata.get("idempotency_key") == before.metadata.get("idempotency_key")
    )
