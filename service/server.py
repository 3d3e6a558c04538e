"""uvicorn, with subscriptions completed cleanly before connections are closed on shutdown."""

from __future__ import annotations

import asyncio
import errno
import socket

import uvicorn
from starlette.applications import Starlette

from service.operations.database import Refused
from service.services import Services


class CoopServer(uvicorn.Server):
    """On shutdown, first end every subscription (each gets the protocol's `complete`),
    then let uvicorn close the connections."""

    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.services.feed.close()
        await asyncio.sleep(0.2)  # let the `complete` messages go out
        await super().shutdown(sockets)


def server_for(app: Starlette, host: str, port: int, **options: object) -> CoopServer:
    # No per-message deflate: it compresses each socket's copy of an answer on its own, so
    # one answer sent to a thousand subscribers would be compressed a thousand times.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        ws_per_message_deflate=False,
        **options,  # type: ignore[arg-type]
    )
    return CoopServer(config, app.state.services)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, for the server to listen on; refused in one line
    when the port is taken or the address is not this machine's."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise Refused(
            f"--host {host} is not an address here: {error.strerror}", usage=True
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise Refused(
                f"port {port} on {host} is in use (another `coop serve`?): stop what holds it,"
                " or choose another with --port",
                unavailable=True,
            ) from None
        raise Refused(f"cannot listen on {host}:{port}: {error.strerror}", usage=True) from None
    return sock
