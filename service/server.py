"""uvicorn, with subscriptions completed cleanly before connections are closed on shutdown."""

from __future__ import annotations

import asyncio
import errno
import socket

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

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


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol, closing a connection whose request line and headers have not
    all arrived `header_timeout` seconds after it opened or its last request began: uvicorn
    itself waits for a client that sends a byte now and then for ever."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(TOO_SLOW)
            self.transport.close()


TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 36\r\nconnection: close\r\n\r\nthe request headers came too slowly\n"
)


def server_for(app: Starlette, host: str, port: int, **options: object) -> CoopServer:
    services: Services = app.state.services
    protocol = type(
        "CoopHttpProtocol",
        (HeaderDeadline,),
        {"header_timeout": services.settings.header_timeout},
    )
    # No per-message deflate: it compresses each socket's copy of an answer on its own, so
    # one answer sent to a thousand subscribers would be compressed a thousand times.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        http=protocol,
        ws_per_message_deflate=False,
        **options,  # type: ignore[arg-type]
    )
    return CoopServer(config, services)


def worker_app() -> Starlette:
    """The app one worker process serves, from the environment as `coop serve` read it."""
    from service.app import create_app
    from service.observability import configure_logging
    from service.settings import Settings

    configure_logging()
    settings = Settings.from_env()
    HeaderDeadline.header_timeout = settings.header_timeout  # this process's own class
    return create_app(settings)


def serve_in_workers(sock: socket.socket, host: str, port: int, workers: int) -> None:
    """Serve `sock` from `workers` processes (each with its own connections, cache and
    change feed, as separate instances would be), restarting any that dies. A worker runs
    uvicorn's own server: on shutdown its subscriptions end as the connection closes."""
    from service.observability import log_config

    config = uvicorn.Config(
        "service.server:worker_app",
        factory=True,
        host=host,
        port=port,
        lifespan="on",
        workers=workers,
        http=HeaderDeadline,
        ws_per_message_deflate=False,
        log_config=log_config(),
    )
    Multiprocess(config, sockets=[sock]).run()


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
