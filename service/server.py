"""uvicorn, with subscriptions completed cleanly before connections are closed on shutdown."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette

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
    config = uvicorn.Config(app, host=host, port=port, lifespan="on", **options)  # type: ignore[arg-type]
    return CoopServer(config, app.state.services)
