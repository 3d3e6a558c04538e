"""A real uvicorn server on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from starlette.applications import Starlette

from service.server import server_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` with uvicorn; yields the base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    server = server_for(app, "127.0.0.1", port, log_level="warning")
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


class Subscriber:
    """A minimal graphql-transport-ws client, written against the protocol's text."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base_url: str, payload: dict[str, Any] | None = None, *, slow: bool = False
    ) -> AsyncIterator[Subscriber]:
        """With `slow`, the client's receive buffers are small (a socket that reads little)."""
        url = base_url.replace("http://", "ws://") + "/graphql"
        options: dict[str, Any] = {}
        if slow:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", int(base_url.rsplit(":", 1)[1])))
            sock.setblocking(False)
            options = {"sock": sock, "max_queue": 1, "compression": None}
        subprotocols = [websockets.Subprotocol("graphql-transport-ws")]
        async with websockets.connect(url, subprotocols=subprotocols, **options) as socket_:
            client = cls(socket_)
            await client.send({"type": "connection_init", "payload": payload or {}})
            ack = await client.receive()
            assert ack["type"] == "connection_ack", ack
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(
                await asyncio.wait_for(self.socket.recv(), timeout)
            )
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, id: str = "1"
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def next_data(self, timeout: float = 10) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        data: dict[str, Any] = message["payload"]["data"]
        return data
