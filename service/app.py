"""The ASGI application: GraphQL over HTTP and WebSocket at /graphql, health at /healthz.

`create_app` wires the routes: /graphql over HTTP (service/graphql_http.py) and WebSocket
(the view, service/graphql_view.py), the record browser, health, readiness and metrics.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from events.faults import database_unavailable
from service.browser.graphiql import STATIC
from service.browser.pages import Browser
from service.checkpointing import Checkpointer
from service.graphql_http import GraphQLEndpoint
from service.graphql_view import RETRY_AFTER_SECONDS, CoopGraphQL
from service.observability import RequestContext
from service.services import Services, build_services
from service.settings import Settings

log = logging.getLogger("coop.app")


async def readiness(services: Services) -> JSONResponse:
    """Ready when the database answers, every projection has caught up with the log and (on
    PostgreSQL) the feed hears other instances' appends. Not ready says why as a class
    (`reason`), never with the driver's words: those go to the log."""
    try:
        behind = {s.name: s.lag for s in await services.projections.status() if s.lag > 0}
    except Exception as error:  # the database is unreachable or not migrated
        log.warning("not ready: %s", error)
        reason = "database_unavailable" if database_unavailable(error) else "database_error"
        return _not_ready(reason)
    if behind:
        return _not_ready("projections_behind", projections_behind=behind)
    if not services.feed.listening:  # other instances' appends reach subscribers late
        return _not_ready("listener_down")
    return JSONResponse({"ready": True})


def _not_ready(reason: str, **details: object) -> JSONResponse:
    return JSONResponse({"ready": False, "reason": reason, **details}, status_code=503)


def _cors(settings: Settings) -> list[Middleware]:
    """Browsers on the allowed origins may call the API; preflights from others are refused."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "accept"],
            max_age=600,
        )
    ]


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Wire one application for `settings`; tests pass their own database through settings."""
    services = services or build_services(settings)
    graphql = CoopGraphQL(services)
    browser = Browser(settings, services, graphql.schema, retry_after=RETRY_AFTER_SECONDS)
    endpoint = GraphQLEndpoint(settings, services, graphql)

    async def healthz(_request: Request) -> JSONResponse:
        # Which process answered: under `--workers N` each worker is its own process.
        return JSONResponse({"status": "ok"}, headers={"x-served-by": str(os.getpid())})

    async def readyz(_request: Request) -> JSONResponse:
        return await readiness(services)

    async def metrics(_request: Request) -> Response:
        try:
            statuses = await services.projections.status()
        except Exception as error:  # answered all the same: the database is what is down
            log.warning("metrics without the database: %s", error)
            services.metrics.database_up.set(0)
        else:
            services.metrics.database_up.set(1)
            for status in statuses:
                services.metrics.projection_lag.labels(status.name).set(status.lag)
        body = generate_latest(services.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.start()
        every = services.settings.checkpoint_every
        checkpointer = None if every is None else Checkpointer(services, every)
        if checkpointer is not None:
            checkpointer.start()
        yield
        if checkpointer is not None:
            await checkpointer.stop()
        await services.close()

    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *browser.routes(),
        ],
        middleware=[*_cors(settings), Middleware(RequestContext, metrics=services.metrics)],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.fanout = graphql.fanout
    return app
