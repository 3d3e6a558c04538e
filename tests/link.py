"""A TCP link to the database that a test can cut and restore: what a database restart or a
network partition looks like to the service, without stopping a server others share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url

from tests.servers import free_port


class Link:
    """Forwards connections from a local port to the database's host and port. Cut, it drops
    every open connection and refuses new ones; restored, it accepts them again."""

    def __init__(self, database_url: str) -> None:
        target = make_url(database_url)
        self.host, self.port = target.host or "127.0.0.1", target.port or 5432
        self.local_port = free_port()
        self.url = target.set(host="127.0.0.1", port=self.local_port).render_as_string(
            hide_password=False
        )
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.local_port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_out.transport.abort()
            return
        self._open |= {client_out, server_out}
        await asyncio.gather(_pipe(client_in, server_out), _pipe(server_in, client_out))
        self._open -= {client_out, server_out}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()  # one side ended: end the other


@asynccontextmanager
async def link_to(database_url: str) -> AsyncIterator[Link]:
    link = Link(database_url)
    await link.restore()
    try:
        yield link
    finally:
        await link.cut()
