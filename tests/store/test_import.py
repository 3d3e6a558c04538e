"""Importing events recorded elsewhere: they continue the chain or nothing is written."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from events.chain import recompute_hash
from events.database import write_transaction
from events.errors import InvalidAppend
from events.model import RecordedEvent
from events.rows import insert_rows, row_values
from events.store import EventStore
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
