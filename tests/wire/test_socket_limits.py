"""What a WebSocket client may send and hold open: a well-formed connection_init in time,
and a bounded number of operations per socket and per token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import websockets

from service.app import create_app
from service.services import Services
from service.settings import parse_tokens
from tests.servers import Subscriber, serving

FEED = "subscription { events(after: 0) { position } }"


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    services.settings = replace(
        services.settings,
        tokens=parse_tokens("reader:ri:ri-secret,reader:other:other-secret"),
        ws_init_timeout=0.5,
        ws_max_operations=2,
        ws_max_subscriptions_per_token=3,
    )
    async with serving(create_app(services.settings, services)) as url:
        yield url


async def close_code(server: str, *messages: dict[str, Any]) -> int:
    url = server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        for message in messages:
            await socket.send(json.dumps(message))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await read_until_closed(socket)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def read_until_closed(socket: websockets.ClientConnection) -> None:
    while True:
        await asyncio.wait_for(socket.recv(), 10)


@pytest.mark.parametrize("authorization", [123, ["Bearer ri-secret"], {"token": "x"}, True])
async def test_an_authorization_that_is_not_a_string_closes_with_4400(
    server: str, authorization: object
) -> None:
    init = {"type": "connection_init", "payload": {"authorization": authorization}}
    assert await close_code(server, init) == 4400


@pytest.mark.parametrize("authorization", ["Basic cmk6cmk=", "Bearer", "ri-secret", "Bearer x y"])
async def test_a_malformed_or_unknown_authorization_closes_with_4403(
    server: str, authorization: str
) -> None:
    init = {"type": "connection_init", "payload": {"authorization": authorization}}
    assert await close_code(server, init) == 4403


async def test_a_socket_that_never_says_connection_init_is_closed(server: str) -> None:
    assert await close_code(server) == 4408


async def expect_refused(client: Subscriber, id: str) -> None:
    await client.subscribe(FEED, id=id)
    message = await client.receive()
    assert message["type"] == "error", message
    assert message["id"] == id
    assert "limit" in message["payload"][0]["message"].lower()


async def test_one_socket_holds_at_most_its_operations(server: str) -> None:
    async with Subscriber.connect(server) as client:
        for id in ("1", "2"):
            await client.subscribe(FEED, id=id)
        await asyncio.sleep(0.2)
        await expect_refused(client, "3")
        await client.send({"id": "1", "type": "complete"})
        await asyncio.sleep(0.2)
        await client.subscribe(FEED, id="4")
        await asyncio.sleep(0.2)
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"


async def test_one_token_holds_at_most_its_subscriptions_across_sockets(server: str) -> None:
    reader = {"authorization": "Bearer ri-secret"}
    async with (
        Subscriber.connect(server, reader) as first,
        Subscriber.connect(server, reader) as second,
    ):
        await first.subscribe(FEED, id="a")
        await first.subscribe(FEED, id="b")
        await second.subscribe(FEED, id="c")
        await asyncio.sleep(0.2)
        await expect_refused(second, "d")
        other = {"authorization": "Bearer other-secret"}
        async with Subscriber.connect(server, other) as third:
            await third.subscribe(FEED, id="e")
            await third.send({"type": "ping"})
            assert (await third.receive())["type"] == "pong"
    # Closed sockets give their subscriptions back.
    async with Subscriber.connect(server, reader) as again:
        for id in ("f", "g"):
            await again.subscribe(FEED, id=id)
        await again.send({"type": "ping"})
        assert (await again.receive())["type"] == "pong"


async def test_the_legacy_protocol_refuses_an_authorization_that_is_not_a_string(
    server: str,
) -> None:
    url = server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as socket:
        init = {"type": "connection_init", "payload": {"authorization": 123}}
        await socket.send(json.dumps(init))
        reply = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert reply["type"] == "connection_error", reply
    assert "Bearer" in json.dumps(reply["payload"])
