"""The ASGI application: GraphQL over HTTP and WebSocket at /graphql, health at /healthz."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, NamedTuple

import msgspec
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult

from domain.errors import ErrorCode
from events.faults import database_unavailable
from schema.access import ANONYMOUS, Principal
from schema.context import Context
from schema.cost import estimate_cost
from schema.extensions import coded
from schema.root import Limits, build_schema
from service.answers import (
    Answer,
    Answers,
    cache_control,
    cacheable,
    etag_of,
    normalized_query,
)
from service.auth import BadToken, principal_for
from service.bodies import BodyTooLarge, BodyTooSlow, read_body, with_body
from service.browser.graphiql import STATIC, graphiql_html
from service.browser.pages import Browser
from service.checkpointing import Checkpointer
from service.fanout import Fanout
from service.observability import RequestContext
from service.persisted import PersistedQueries, PersistedQueryError
from service.services import Services, build_services
from service.settings import Settings
from service.websocket import LegacyHandler, PingingHandler

GRAPHQL_RESPONSE = "application/graphql-response+json"
RETRY_AFTER_SECONDS = 1
CLOSE = {"connection": "close"}  # the rest of the body is not read: the connection ends
log = logging.getLogger("coop.app")


class CoopGraphQL(GraphQL[Context, None]):
    """Strawberry's view, held to the GraphQL-over-HTTP specification."""

    graphql_transport_ws_handler_class = PingingHandler
    graphql_ws_handler_class = LegacyHandler

    def __init__(self, services: Services) -> None:
        settings = services.settings
        limits = Limits(
            settings.max_query_depth,
            settings.max_aliases,
            settings.max_tokens,
            introspection=settings.introspection,
        )
        super().__init__(
            build_schema(limits),
            keep_alive=True,
            keep_alive_interval=15,
            graphql_ide="graphiql" if settings.graphiql else None,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
            max_subscriptions_per_connection=settings.ws_max_operations,
        )
        self.open_by_caller: dict[str, set[Any]] = {}
        self.services = services
        self.persisted = PersistedQueries()
        self.fanout = Fanout(services, self.schema, settings.ws_queue_limit)

    def parse_json(self, data: str | bytes) -> Any:
        """A JSON object, or a 400 saying what the body (or query parameter) is instead."""
        try:
            text = data.decode() if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise HTTPException(400, "the body is not UTF-8 text") from None
        try:
            parsed = super().parse_json(text)
        except RecursionError:
            raise HTTPException(400, "the JSON nests too deeply") from None
        if not isinstance(parsed, dict):
            raise HTTPException(
                400,
                f"expected a JSON object, got {_json_kind(parsed)}: send"
                ' {"query": ..., "variables": {...}}',
            )
        return parsed

    def encode_json(self, data: object) -> str:
        """Answers encoded by msgspec: a large compiled answer spent longer in `json.dumps`
        than in the database. Text, not bytes: WebSocket messages are sent with it too, and
        bytes would go out as binary frames, which clients refuse."""
        return msgspec.json.encode(data).decode()

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request, with a persisted query's document filled in from its hash."""
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(data.operation_name, str | None):
                raise HTTPException(400, "operationName must be a string or null")
            data.query = self.persisted.document(data.query, data.extensions)
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal = getattr(request.state, "principal", ANONYMOUS)
        if isinstance(request, Request):
            request.state.sub_response = response
            if _wants_graphql_response(request):
                response.media_type = GRAPHQL_RESPONSE
        return Context(
            services=self.services,
            request=request,
            response=response,
            principal=principal,
            known_head=getattr(request.state, "head", None),
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("authorization", params.get("Authorization"))
        if authorization is not None and not isinstance(authorization, str):
            # Never anonymous: over graphql-transport-ws the handler closes with 4400 first.
            raise ConnectionRejectionError(_refusal("authorization must be 'Bearer <token>'"))
        try:
            context.principal = principal_for(self.services.settings, authorization)
        except BadToken as error:
            raise ConnectionRejectionError(_refusal(str(error))) from None
        if self.services.settings.require_auth_for_reads and not context.principal.authenticated:
            message = "this service requires a bearer token: send it in connection_init"
            raise ConnectionRejectionError(_refusal(message))
        return None

    async def pick_websocket_subprotocol(self, request: WebSocket) -> str | None:
        """`graphql-transport-ws` where the client offers it; else what it offers."""
        offered = request["subprotocols"]
        for protocol in (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL):
            if protocol in offered:
                return protocol
        return None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {}
        errors: list[Any] = [coded(error).formatted for error in result.errors or []]
        if errors:
            response["errors"] = errors
        if result.data is not None or not _request_error(result):
            response["data"] = result.data
        elif _wants_graphql_response(request):
            # A request that was never executed: the specification wants a 4xx here.
            request.state.sub_response.status_code = 400
        if result.extensions:
            response["extensions"] = result.extensions
        request.state.outcome = response  # what the answer cache keeps, undecoded
        if any(e.get("extensions", {}).get("code") == ErrorCode.UNAVAILABLE for e in errors):
            # The database cannot serve now: say so as HTTP does, with when to try again.
            request.state.sub_response.status_code = 503
            request.state.sub_response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from Coop's own files: the page makes no request to another host."""
        return HTMLResponse(graphiql_html(self.services.settings.require_auth_for_reads))

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = getattr(sub_response, "media_type", None)
        if media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response


def _refusal(message: str) -> dict[str, object]:
    return {"message": message, "extensions": {"code": str(ErrorCode.UNAUTHENTICATED)}}


def _json_kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


class QueryOperation(NamedTuple):
    """A request that runs one query: what keys its answer, and the parsed document."""

    normalized: str
    name: str | None
    variables: str  # canonical JSON
    document: DocumentNode
    values: dict[str, Any]

    @property
    def key(self) -> tuple[str, str | None, str]:
        return self.normalized, self.name, self.variables


async def _query_of(
    request: Request, persisted: PersistedQueries, max_tokens: int
) -> QueryOperation | None:
    """The query operation a request runs; None for anything else, which is answered
    uncached."""
    try:
        if request.method == "GET":
            params = request.query_params
            data: Any = {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
                "variables": msgspec.json.decode(params.get("variables") or "null"),
                "extensions": msgspec.json.decode(params.get("extensions") or "null"),
            }
        else:
            data = msgspec.json.decode(await request.body())
        if not _well_shaped(data):
            return None  # the request is refused where it runs, with a message
        document = persisted.document(data.get("query"), data.get("extensions"))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, PersistedQueryError):
        return None
    operation = data.get("operationName")
    if not isinstance(document, str):
        return None
    query = normalized_query(document, operation, max_tokens)
    if query is None:
        return None
    values = data.get("variables") or {}
    variables = msgspec.json.encode(values, order="sorted").decode()
    return QueryOperation(query.normalized, operation, variables, query.document, values)


class RawKey(NamedTuple):
    """A request as it came: the same bytes from the same role, accepting the same, get the
    same answer while the head stays."""

    method: str
    body: bytes
    role: str | None
    accept: str
    content_type: str


def _raw_key(request: Request, body: bytes, principal: Principal) -> RawKey:
    headers = request.headers
    accept, content_type = headers.get("accept", ""), headers.get("content-type", "")
    return RawKey(request.method, body, principal.role, accept, content_type)


def _well_shaped(data: Any) -> bool:
    """A GraphQL-over-HTTP request object: the fields this reads are of the types it expects."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("query"), str | None)
        and isinstance(data.get("operationName"), str | None)
        and isinstance(data.get("variables"), dict | None)
        and isinstance(data.get("extensions"), dict | None)
    )


def _with_validators(
    request: Request, response: Response, etag: str, pinned: bool, principal: Principal
) -> Response:
    """The answer's ETag and caching rule; 304 when the caller already holds it."""
    headers = {
        "etag": etag,
        "cache-control": cache_control(pinned, not principal.authenticated),
        "vary": "authorization, accept",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


async def _send_kept(request: Request, send: Send, answer: Answer, principal: Principal) -> None:
    """A kept answer sent as it is, with the headers `_with_validators` gives (a 304 when
    the caller holds it): no response object is built for it."""
    headers = [
        (b"etag", answer.etag.encode()),
        (b"cache-control", cache_control(answer.pinned, not principal.authenticated).encode()),
        (b"vary", b"authorization, accept"),
    ]
    if answer.etag in request.headers.get("if-none-match", ""):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers += [
        (b"content-length", str(len(answer.body)).encode()),
        (b"content-type", answer.media_type.encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


class _Endpoint:
    """An ASGI callable Starlette's `Route` serves as it is (a function it would take for a
    request handler, and wrap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def _wants_graphiql(request: Request) -> bool:
    """A browser's GET without a query (Strawberry's own test for showing its IDE)."""
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


def _request_error(result: ExecutionResult) -> bool:
    """Parse and validation failures: errors before execution, so none has a path."""
    errors = result.errors or []
    return bool(errors) and all(error.path is None for error in errors)


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


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A refusal before GraphQL runs, shaped as a GraphQL answer."""
    body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _timed_out(seconds: float) -> JSONResponse:
    message = (
        f"the request took longer than {seconds:g} s and was stopped (COOP_REQUEST_TIMEOUT);"
        " a write in it may or may not have been recorded: retry it with the same idempotency"
        " key, or ask for less"
    )
    error = {"message": message, "extensions": {"code": str(ErrorCode.TIMEOUT)}}
    return JSONResponse({"data": None, "errors": [error]})


def _unauthenticated(message: str) -> JSONResponse:
    return error_response(
        401, ErrorCode.UNAUTHENTICATED, message, headers={"www-authenticate": "Bearer"}
    )


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
    answers = Answers(settings.response_cache_mb * 1024 * 1024)

    assert isinstance(graphql.schema, strawberry.Schema)
    core_schema = graphql.schema._schema

    def _over_budget(query: QueryOperation) -> bool:
        cost = estimate_cost(
            core_schema, query.document, query.name, query.values, settings.max_page_size
        )
        return cost > settings.max_query_cost

    async def answered(
        request: Request, principal: Principal, asked: RawKey | None, head: int | None
    ) -> Response:
        """A query's answer from the cache when its key is there, else run and kept."""
        query = await _query_of(request, graphql.persisted, settings.max_tokens)
        if query is None or _over_budget(query):
            return await graphql.run(request)  # refused there, before any SQL
        if head is None:  # not known without waiting: read it (within the request's time)
            try:
                head = await services.feed.log_head.position()
            except (SQLAlchemyError, OSError):
                return await graphql.run(request)  # it says the database is unavailable
        request.state.head = head  # the operation answers on this head: one read
        key = (*query.key, principal.role, head, _wants_graphql_response(request))
        fresh = "no-cache" in request.headers.get("cache-control", "")
        answer = None if fresh else answers.get(key)
        if answer is None:
            response = await graphql.run(request)
            outcome = getattr(request.state, "outcome", None)
            if response.status_code != 200 or not hasattr(response, "body") or outcome is None:
                return response
            body = bytes(response.body)
            keep, pinned = cacheable(outcome, head)
            media_type = response.headers["content-type"]
            answer = Answer(body, media_type, etag_of(body), pinned, head)
            if not keep:
                return _with_validators(request, response, answer.etag, False, principal)
            answers.put(key, answer)
        else:
            response = Response(answer.body, headers={"content-type": answer.media_type})
        if asked is not None:
            answers.put(asked, answer)
        return _with_validators(request, response, answer.etag, answer.pinned, principal)

    def kept(request: Request, asked: RawKey) -> tuple[Answer | None, int | None]:
        """The answer kept for these very bytes when it still holds (the request is then
        answered without being decoded, and Strawberry is never entered); else the head,
        when it could be had without waiting."""
        if "no-cache" in request.headers.get("cache-control", ""):
            return None, None
        answer = answers.get(asked)
        if answer is None or answer.pinned:  # a pinned answer never changes
            return answer, None
        head = services.feed.log_head.current()
        return (answer, head) if head == answer.head else (None, head)

    async def graphql_http(scope: Scope, receive: Receive, send: Send) -> None:
        """GraphQL over HTTP; a request answered before, at this head, is answered from the
        answer cache before anything else is built for it."""
        request = Request(scope, receive)
        admitted = await _admitted(request)
        if isinstance(admitted, Response):
            await admitted(scope, receive, send)
            return
        principal, body = admitted
        asked = _raw_key(request, body, principal)
        answer, head = kept(request, asked)
        if answer is not None:
            await _send_kept(request, send, answer, principal)
            return
        response = await _answer(request, principal, body, asked, head)
        await response(scope, receive, send)

    async def _admitted(request: Request) -> tuple[Principal, bytes] | Response:
        """The caller and the body (the query string of a GET); or the response that refuses
        them (or the GraphiQL page)."""
        if settings.graphiql and _wants_graphiql(request):
            # The page holds no data: it is served without a token, which is typed into it.
            return HTMLResponse(graphiql_html(settings.require_auth_for_reads))
        try:
            principal: Principal = principal_for(settings, request.headers.get("authorization"))
        except BadToken as error:
            return _unauthenticated(str(error))
        if settings.require_auth_for_reads and not principal.authenticated:
            return _unauthenticated("this service requires a bearer token for every request")
        request.state.principal = principal
        if request.method == "POST":
            try:
                body = await read_body(request, settings.max_body_bytes, settings.body_timeout)
            except BodyTooLarge as error:
                return error_response(413, ErrorCode.PAYLOAD_TOO_LARGE, str(error), CLOSE)
            except BodyTooSlow as error:
                return error_response(408, ErrorCode.TIMEOUT, str(error), CLOSE)
        else:
            body = request.scope["query_string"]
        return principal, body

    async def _answer(
        request: Request, principal: Principal, body: bytes, asked: RawKey, head: int | None
    ) -> Response:
        """The answer of a request the cache did not hold for its very bytes."""
        if request.method == "POST":
            request = with_body(request, body)
        try:
            async with asyncio.timeout(settings.request_timeout):
                response = await answered(request, principal, asked, head)
        except TimeoutError:
            return _timed_out(settings.request_timeout)
        except PersistedQueryError as error:
            return error_response(200, error.code, str(error))
        except HTTPException as error:
            # A body that is not JSON of the right shape (400), or a mutation over GET, which
            # the specification answers with 405: say so in JSON.
            if request.method == "GET" and "GET" in error.reason:
                return error_response(
                    405, ErrorCode.BAD_REQUEST, error.reason, headers={"allow": "POST"}
                )
            return error_response(error.status_code, ErrorCode.BAD_REQUEST, error.reason)
        return response

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
            Route("/graphql", _Endpoint(graphql_http), methods=["GET", "POST"]),
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
