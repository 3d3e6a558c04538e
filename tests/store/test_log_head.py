"""The log's head as the answer cache asks for it: never behind what the database says,
across two instances on one database, and read from it whenever a notification may be lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.database import create_engine
from events.feed import ChangeFeed
from events.heads import LogHead
from events.store import EventStore
from tests.store.kinds import ThingNamed, test_events


@pytest.fixture
async def other(database_url: str, engine: AsyncEngine) -> AsyncIterator[EventStore]:
    """A second instance's store on the same database, with its own engine."""
    own = create_engine(database_url)
    try:
        yield EventStore(own, test_events)
    finally:
        await own.dispose()


async def reaches(head: LogHead, position: int) -> bool:
    """Whether the head comes to `position` within 10 s (PostgreSQL: once the notification
    arrives)."""
    for _ in range(1000):
        if await head.position() == position:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_the_head_follows_appends_made_through_another_instance(
    store: EventStore, other: EventStore, engine_name: str
) -> None:
    feed = ChangeFeed(store)
    ChangeFeed(other)  # the other instance announces its appends, as a running one does
    await feed.start()
    try:
        head = feed.log_head
        head.confirm_seconds = 3600  # only what is heard moves it (PostgreSQL)
        assert await head.position() == 0
        for n in range(3):
            written = await other.append(f"thing:{n}", [ThingNamed(f"n{n}", [])])
            if engine_name == "sqlite":  # read from the file every time
                assert await head.position() == written.last_position
            assert await reaches(head, written.last_position)
        mine = await store.append("thing:mine", [ThingNamed("mine", [])])
        assert await head.position() == mine.last_position  # this instance's own, at once
    finally:
        await feed.close()


async def test_the_database_is_asked_whenever_a_notification_may_have_been_missed(
    store: EventStore, other: EventStore
) -> None:
    """`other` announces nothing here: only a read of the database can find its appends."""
    listening = True
    head = LogHead(store, lambda: listening, confirm_seconds=3600)
    assert await head.position() == 0

    async def silently(n: int) -> int:
        return (await other.append(f"thing:{n}", [ThingNamed("x", [])])).last_position

    written = await silently(1)
    head.heard(None)  # the LISTEN connection was made again: what came meanwhile is unknown
    assert await head.position() == written
    listening = False  # the LISTEN connection is down
    written = await silently(2)
    assert await head.position() == written
    listening, head.confirm_seconds = True, 0  # the last read is too old to rely on
    written = await silently(3)
    assert await head.position() == written
    head.close()
