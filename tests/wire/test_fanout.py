"""Shared execution over a real server: groups, the seam, slow sockets, metrics."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from events.store import EventStore
from service.app import create_app
from service.services import Services, build_services
from service.settings import Settings
from tests.servers import Subscriber, serving
from tests.store.kinds import ThingDated, ThingNamed, test_events

FEED = """subscription($after: Int) {
  events(after: $after, types: ["ThingNamed"]) { position type data }
}"""


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine, test_events)


@pytest.fixture
def services(store: EventStore, database_url: str) -> Services:
    return build_services(Settings(database_url=database_url, ws_queue_limit=2), store)


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    async with serving(create_app(services.settings, services)) as url:
        yield url


async def append(store: EventStore, count: int, size: int = 10) -> None:
    for n in range(count):
        await store.append("thing:a", [ThingNamed(f"{n}".ljust(size, "x"), [])])


async def positions(client: Subscriber, count: int) -> list[int]:
    return [(await client.next_data())["events"]["position"] for _ in range(count)]


async def metrics(server: str) -> dict[str, float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{server}/metrics")).text
    found = re.findall(r"^(coop_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in found}


async def following(server: str, count: int) -> None:
    """Wait until `count` subscribers have joined their groups."""
    async with asyncio.timeout(10):
        while (await metrics(server))["coop_grouped_subscribers"] < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_subscribers_of_one_operation_share_one_execution_per_event(
    store: EventStore, services: Services, server: str
) -> None:
    await append(store, 3)
    statements = 0

    def counted(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Subscriber.connect(server)) for _ in range(20)]
        # Different starting points, one operation: one group, each caught up on its own.
        for n, client in enumerate(clients):
            await client.subscribe(FEED, {"after": n % 4})
        await following(server, 20)
        seen = await metrics(server)
        assert seen["coop_subscription_groups"] == 1
        assert seen["coop_grouped_subscribers"] == 20
        for n, client in enumerate(clients):
            assert await positions(client, 3 - n % 4) == list(range(n % 4 + 1, 4))
        event.listen(services.engine.sync_engine, "before_cursor_execute", counted)
        await append(store, 5)
        for client in clients:
            assert await positions(client, 5) == [4, 5, 6, 7, 8]
        event.remove(services.engine.sync_engine, "before_cursor_execute", counted)
        # Sockets keeping up are written to by the group itself, not through their queues.
        assert (await metrics(server))["coop_answers_written_directly_total"] > 0
    # The appends and one read of the log per wake-up: not one per subscriber.
    assert statements < 5 * 15, statements


async def test_different_operations_and_roles_form_different_groups(
    store: EventStore, services: Services, server: str
) -> None:
    other = FEED.replace("position type data", "position")
    async with Subscriber.connect(server) as a, Subscriber.connect(server) as b:
        await a.subscribe(FEED)
        await b.subscribe(other)
        await following(server, 2)
        assert (await metrics(server))["coop_subscription_groups"] == 2
        await append(store, 1)
        assert (await a.next_data())["events"]["type"] == "ThingNamed"
        assert (await b.next_data()) == {"events": {"position": 1}}


FILTERED = """subscription($after: Int, $types: [String!], $streams: [String!]) {
  events(after: $after, types: $types, streamIds: $streams) { position type streamId }
}"""


async def test_subscribers_differing_only_in_filters_share_a_group_and_get_their_own_events(
    store: EventStore, services: Services, server: str
) -> None:
    filters: list[dict[str, Any]] = [
        {"types": ["ThingNamed"]},
        {"types": ["ThingDated"]},
        {"types": "ThingDated", "streams": ["thing:b"]},  # one value where a list is expected
        {"streams": ["thing:a"]},
        {"types": []},  # empty: no filter, as the feed reads it
        {},
    ]
    written = [
        ("thing:a", ThingNamed("a1", [])),
        ("thing:b", ThingDated("b1")),
        ("thing:a", ThingDated("a2")),
        ("thing:b", ThingNamed("b2", [])),
        ("thing:b", ThingDated("b3")),
    ]
    for stream, thing in written[:2]:  # caught up from the log; the rest arrive live
        await store.append(stream, [thing])
    expected = []
    for wanted in filters:
        types, streams = wanted.get("types"), wanted.get("streams")
        types = [types] if isinstance(types, str) else types
        expected.append(
            [
                (n, type(thing).__name__, stream)
                for n, (stream, thing) in enumerate(written, start=1)
                if (not types or type(thing).__name__ in types)
                and (not streams or stream in streams)
            ]
        )
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Subscriber.connect(server)) for _ in filters]
        for client, wanted in zip(clients, filters, strict=True):
            await client.subscribe(FILTERED, {"after": 0, **wanted})
        await following(server, len(filters))
        assert (await metrics(server))["coop_subscription_groups"] == 1
        for stream, thing in written[2:]:
            await store.append(stream, [thing])
        for client, mine in zip(clients, expected, strict=True):
            got = [await client.next_data() for _ in mine]
            assert [
                (e["events"]["position"], e["events"]["type"], e["events"]["streamId"]) for e in got
            ] == mine
        # Nothing else was sent: the next answer any of them gets is for the next event.
        await store.append("thing:c", [ThingNamed("c", [])])
        for client, wanted in zip(clients, filters, strict=True):
            if not wanted.get("streams") and wanted.get("types") != ["ThingDated"]:
                assert (await client.next_data())["events"]["position"] == 6


DEFAULTED = """subscription($after: Int, $types: [String!] = ["ThingDated"]) {
  events(after: $after, types: $types) { position type }
}"""


async def test_a_filter_given_as_a_variables_default_holds_once_live(
    store: EventStore, services: Services, server: str
) -> None:
    await store.append("thing:a", [ThingNamed("a1", [])])
    await store.append("thing:a", [ThingDated("a2")])
    async with Subscriber.connect(server) as client:
        await client.subscribe(DEFAULTED, {"after": 0})  # $types left to its default
        assert (await client.next_data())["events"] == {"position": 2, "type": "ThingDated"}
        await following(server, 1)
        await store.append("thing:b", [ThingNamed("b3", [])])
        await store.append("thing:b", [ThingDated("b4")])
        assert (await client.next_data())["events"] == {"position": 4, "type": "ThingDated"}


async def test_a_subscriber_joining_while_events_flow_has_no_gap_and_no_duplicate(
    store: EventStore, services: Services, server: str
) -> None:
    async with Subscriber.connect(server) as early:
        await early.subscribe(FEED, {"after": 0})
        await following(server, 1)
        writing = asyncio.create_task(append(store, 40))
        await asyncio.sleep(0.05)
        async with Subscriber.connect(server) as late:
            await late.subscribe(FEED, {"after": 0})
            await writing
            assert await positions(late, 40) == list(range(1, 41))
        assert await positions(early, 40) == list(range(1, 41))


async def test_a_slow_socket_is_moved_to_catch_up_and_never_stalls_its_group(
    store: EventStore, services: Services, server: str
) -> None:
    slow_socket = Subscriber.connect(server, slow=True)
    async with slow_socket as slow, Subscriber.connect(server) as fast:
        await slow.subscribe(FEED, {"after": 0})
        await fast.subscribe(FEED, {"after": 0})
        await following(server, 2)
        slow.socket.transport.pause_reading()
        # The slow one reads nothing while 200 large answers (about 12 MB) are sent: the
        # sockets' buffers, and then its queue of 2, fill.
        await append(store, 200, size=60_000)
        assert await positions(fast, 200) == list(range(1, 201))
        assert (await metrics(server))["coop_subscribers_moved_to_catch_up_total"] >= 1
        slow.socket.transport.resume_reading()
        assert await positions(slow, 200) == list(range(1, 201))
        await append(store, 2)
        assert await positions(slow, 2) == [201, 202]
        assert await positions(fast, 2) == [201, 202]
        await following(server, 2)  # the slow one is back in the group


async def test_live_delivery_lag_is_measured_apart_from_catch_up(
    store: EventStore, services: Services, server: str
) -> None:
    await append(store, 3)
    async with Subscriber.connect(server) as client:
        await client.subscribe(FEED, {"after": 0})
        await positions(client, 3)
        await following(server, 1)
        await append(store, 2)
        await positions(client, 2)
    seen = await metrics(server)
    assert seen['coop_delivery_lag_seconds_count{phase="catch_up"}'] == 3
    assert seen['coop_delivery_lag_seconds_count{phase="live"}'] == 2
