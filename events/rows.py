"""Rows of the events table as the values the store gives, and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from events.backends import backend_of
from events.chain import canonical_json
from events.model import AppendResult, RecordedEvent
from events.tables import events


async def insert_rows(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows of the events table (values as `row_values` gives them, with the Merkle
    tree's `subtrees` where they hold any), in one go. Every row names the same columns."""
    await backend_of(connection).insert_many(connection, events, rows)


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


def row_tuple(event: RecordedEvent, subtrees: bytes | None) -> tuple[Any, ...]:
    """An event as a row of the events table, its values in the table's column order (for
    the engines' bulk paths, `Backend.write_rows`), with the Merkle tree's `subtrees` it
    holds."""
    return (
        event.position,
        event.stream_id,
        event.stream_version,
        event.event_id,
        event.type,
        event.schema_version,
        canonical_json(event.data),
        canonical_json(event.metadata),
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
