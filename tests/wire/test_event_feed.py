"""The `events` subscription over a real WebSocket against a real uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.feed import ChangeFeed
from events.model import RecordedEvent
from events.store import EventStore
from service.app import create_app
from service.services import build_services
from service.settings import Settings
from tests.servers import Subscriber, serving
from tests.store.kinds import ThingDated, ThingNamed, test_events

FEED = """subscription($after: Int, $streams: [String!], $types: [String!]) {
  events(after: $after, streamIds: $streams, types: $types) { position streamId type data }
}"""


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine, test_events)


@pytest.fixture
async def server(store: EventStore, database_url: str) -> AsyncIterator[str]:
    services = build_services(Settings(database_url=database_url), store)
    async with serving(create_app(services.settings, services)) as url:
        yield url


async def append_things(store: EventStore, names: list[str], stream: str = "thing:a") -> None:
    for name in names:
        await store.append(stream, [ThingNamed(name, [])])


async def test_replay_then_live_with_a_write_during_replay(store: EventStore, server: str) -> None:
    await append_things(store, [f"old{n}" for n in range(30)])
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"after": 0})
        first = await client.next_data()
        # Written while the replay is under way: must come once, after the old ones.
        await append_things(store, ["during"])
        seen = [first["events"]["position"]]
        while len(seen) < 31:
            seen.append((await client.next_data())["events"]["position"])
        await append_things(store, ["live"])
        seen.append((await client.next_data())["events"]["position"])
    assert seen == list(range(1, 33))


async def test_resume_after_disconnect_has_no_gap_and_no_duplicate(
    store: EventStore, server: str
) -> None:
    await append_things(store, ["a", "b", "c"])
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"after": 0})
        got = [(await client.next_data())["events"]["position"] for _ in range(2)]
    await append_things(store, ["d", "e"])  # missed while away
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"after": got[-1]})
        got += [(await client.next_data())["events"]["position"] for _ in range(3)]
        with pytest.raises(TimeoutError):
            await client.receive(timeout=0.3)
    assert got == [1, 2, 3, 4, 5]


async def test_filtered_subscription(store: EventStore, server: str) -> None:
    await append_things(store, ["x"], stream="thing:b")  # a stream must exist to be followed
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"types": ["ThingDated"], "streams": ["thing:b"]})
        await asyncio.sleep(0.2)  # the subscription starts "from now on"
        await store.append("thing:a", [ThingDated("wrong stream", None)])
        await store.append("thing:b", [ThingDated("right", None)])
        event = (await client.next_data())["events"]
    assert (event["position"], event["data"]["name"]) == (3, "right")


async def test_slow_subscriber_does_not_hold_back_a_fast_one(
    store: EventStore, server: str
) -> None:
    async with Subscriber.connect(server) as slow, Subscriber.connect(server) as fast:
        await slow.subscribe(FEED, {"after": 0})
        await fast.subscribe(FEED, {"after": 0})
        await append_things(store, [f"n{n}" for n in range(60)])
        fast_seen = [(await fast.next_data())["events"]["position"] for _ in range(60)]
        # The slow one has read nothing yet; it still gets every event, in order, once.
        slow_seen = [(await slow.next_data())["events"]["position"] for _ in range(60)]
    assert fast_seen == slow_seen == list(range(1, 61))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"after": -5}, "0 or more"),
        ({"after": 4}, "after (4) is beyond the log's head (3)"),
        ({"types": ["ThingNamed", "Nope"]}, "unknown event types ['Nope']"),
        ({"streams": ["thing:a", "thing:nope"]}, "no stream 'thing:nope' in the log"),
    ],
)
async def test_arguments_that_would_wait_forever_are_refused_with_a_message(
    store: EventStore, server: str, arguments: dict[str, object], message: str
) -> None:
    await append_things(store, ["a", "b", "c"])
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, arguments)
        answer = await client.receive()
        # The socket stays usable: a good subscription on it is answered.
        await client.subscribe(FEED, {"after": 2}, id="2")
        good = await client.receive()
    assert answer["type"] == "error", answer
    assert answer["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in answer["payload"][0]["message"]
    assert good["payload"]["data"]["events"]["position"] == 3


async def test_after_at_the_head_is_accepted(store: EventStore, server: str) -> None:
    await append_things(store, ["a", "b"])
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"after": 2})
        await asyncio.sleep(0.2)
        await append_things(store, ["c"])
        assert (await client.next_data())["events"]["position"] == 3


async def test_the_feed_takes_its_own_appends_as_the_log_gives_them_without_reading(
    store: EventStore,
) -> None:
    feed = ChangeFeed(store)
    await feed.start()
    reads = 0
    read_all = store.read_all

    async def counted(**arguments: Any) -> list[RecordedEvent]:
        nonlocal reads
        reads += 1
        return await read_all(**arguments)

    store.read_all = counted  # type: ignore[method-assign]
    try:
        async with aclosing(feed.batches(0)) as batches:
            await append_things(store, ["a"])
            taken = list(await anext(batches))  # the first read
            first_reads = reads
            for n in range(3):
                await store.append("thing:b", [ThingNamed(f"b{n}", []), ThingDated(f"c{n}")])
                taken += await anext(batches)
        assert reads == first_reads  # the three appends came in without a read
        assert taken == await read_all(after=0, limit=100)
        assert [event.position for event in taken] == list(range(1, 8))
    finally:
        store.read_all = read_all  # type: ignore[method-assign]
        await feed.close()


async def test_a_notification_heard_while_the_read_that_brings_its_event_runs_costs_no_read(
    store: EventStore,
) -> None:
    # On PostgreSQL the LISTEN connection may hear of an append while the read that brings
    # it is under way; that read answers the notification, and the appends that follow are
    # taken as they commit (another process's append heard the same way is read, below).
    feed = ChangeFeed(store)
    await feed.start()
    reads = 0
    read_all = store.read_all

    async def counted(**arguments: Any) -> list[RecordedEvent]:
        nonlocal reads
        reads += 1
        found = await read_all(**arguments)
        if found and reads == 1:
            feed._heard(str(found[-1].position))  # heard before the read returns
        return found

    store.read_all = counted  # type: ignore[method-assign]
    try:
        async with aclosing(feed.batches(0)) as batches:
            await append_things(store, ["a"])
            taken = list(await anext(batches))
            assert reads == 1
            await append_things(store, ["b"])
            taken += await anext(batches)
            assert reads == 1  # taken as it committed
            feed._heard("9")  # an append of another process, beyond what was read
            await append_things(store, ["c"])
            taken += await anext(batches)
            assert reads == 2
        assert [event.position for event in taken] == [1, 2, 3]
    finally:
        store.read_all = read_all  # type: ignore[method-assign]
        await feed.close()
