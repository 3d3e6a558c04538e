"""The ASGI application: GraphQL at /graphql, health at /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from schema.context import Context
from schema.root import build_schema
from service.services import Services, build_services
from service.settings import Settings


class CoopGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(build_schema())
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(services=self.services, request=request, response=response)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Wire one application for `settings`; tests pass their own database through settings."""
    services = services or build_services(settings)
    graphql = CoopGraphQL(services)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.start()
        yield
        await services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
