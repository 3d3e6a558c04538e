"""Importing events recorded elsewhere: they continue the chain or nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from msgspec.structs import replace
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from events.chain import GENESIS_HASH, recompute_hash
from events.database import write_transaction
from events.errors import InvalidAppend
from events.model import RecordedEvent
from events.rows import CarriedKey, EventRow, carried_keys, row_tuple, row_values
from events.store import EventStore, insert_rows
from events.tables import events
from tests.store.kinds import ThingNamed


async def next_event(store: EventStore, **changes: object) -> RecordedEvent:
    """An event that follows the head, hashed correctly, with `changes` made before hashing."""
    written = await store.append("thing:a", [ThingNamed("a", [])])
    template = replace(
        written.events[0],
        position=written.last_position + 1,
        event_id=uuid.uuid4(),
        prev_hash=written.events[0].hash,
        **changes,
    )
    return replace(template, hash=recompute_hash(template))


async def test_an_import_continues_the_chain(store: EventStore) -> None:
    event = await next_event(store, stream_id="thing:b", stream_version=1)
    await store.import_events([event])
    assert (await store.head()).hash == event.hash
    assert (await store.read_stream("thing:b"))[0].event_id == event.event_id


async def test_an_import_refuses_a_stream_id_the_store_would_not_take(store: EventStore) -> None:
    event = await next_event(store, stream_id="x" * 250)
    with pytest.raises(InvalidAppend, match=f"cannot import position {event.position}: stream id"):
        await store.import_events([event])
    assert (await store.head()).position == event.position - 1


async def test_a_bulk_insert_never_cuts_a_value_short(store: EventStore) -> None:
    """PostgreSQL refuses a value longer than its column; SQLite keeps it whole."""
    event = await next_event(store, stream_id="x" * 250)

    async def write() -> None:
        async with write_transaction(store.engine) as connection:
            await insert_rows(connection, [row_values(event)])

    if store.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="too long"):
            await write()
        assert (await store.head()).position == event.position - 1
        return
    await write()
    async with store.engine.connect() as connection:
        kept = await connection.scalar(
            select(events.c.stream_id).where(events.c.position == event.position)
        )
    assert kept == event.stream_id


def whole_log(count: int) -> list[RecordedEvent]:
    """A log of `count` events from position 1, each its own append, chained."""
    log, prev_hash = [], GENESIS_HASH
    for position in range(1, count + 1):
        event = RecordedEvent(
            position=position,
            stream_id=f"thing:{position}",
            stream_version=1,
            event_id=uuid.uuid4(),
            type="ThingNamed",
            schema_version=1,
            data={"name": str(position), "tags": []},
            metadata={"idempotency_key": f"key-{position}"},
            recorded_at=datetime(2026, 12, 1, tzinfo=UTC),
            prev_hash=prev_hash,
            hash="",
        )
        log.append(event := replace(event, hash=recompute_hash(event)))
        prev_hash = event.hash
    return log


@dataclass
class Rows:
    rows: list[EventRow]
    keys: list[CarriedKey]


async def chunked(log: list[RecordedEvent], size: int) -> AsyncIterator[Rows]:
    """The log as rows of the events table, `size` at a time, with their appends' keys."""
    for start in range(0, len(log), size):
        part = log[start : start + size]
        yield Rows([row_tuple(event, None) for event in part], carried_keys(part))


async def test_a_whole_log_is_imported_in_one_transaction(store: EventStore) -> None:
    """A chunk that breaks the chain late, or a problem the caller raises between chunks,
    rolls back the chunks written before it; a log already begun is refused."""
    log = whole_log(12)
    broken = [*log[:9], replace(log[9], prev_hash=log[7].hash), *log[10:]]
    with pytest.raises(InvalidAppend, match="position 10 does not follow"):
        await store.import_log(chunked(broken, 3))

    async def cut() -> AsyncIterator[Rows]:
        async for chunk in chunked(log[:9], 3):
            yield chunk
        raise RuntimeError("the file ends here")

    with pytest.raises(RuntimeError, match="the file ends here"):
        await store.import_log(cut())
    assert (await store.head()).position == 0
    assert await store.result_for_idempotency_key("key-1") is None
    assert await store.import_log(chunked(log, 5)) == 12
    assert (await store.head()).hash == log[-1].hash
    assert (await store.result_for_idempotency_key("key-7")) is not None
    with pytest.raises(InvalidAppend, match="this one holds positions 1-12"):
        await store.import_log(chunked(log, 5))
