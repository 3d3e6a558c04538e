"""The /graphql HTTP endpoint: admission, the answer cache, and refusals before GraphQL runs.

`GraphQLEndpoint` admits a request (its bearer token, its body within the size and time
allowed), answers it from the answer cache when these very bytes or this query were answered
at the current head (with ETag and 304), else runs it through the view
(service/graphql_view.py) within the request timeout and keeps the answer; refusals before
GraphQL runs are shaped as GraphQL answers (`error_response`).
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

import msgspec
import strawberry
from cross_web import HTTPException
from graphql import DocumentNode
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from domain.errors import ErrorCode
from schema.access import Principal
from schema.cost import estimate_cost
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
from service.browser.graphiql import graphiql_html
from service.graphql_view import CoopGraphQL, wants_graphql_response
from service.persisted import PersistedQueries, PersistedQueryError
from service.services import Services
from service.settings import Settings

CLOSE = {"connection": "close"}  # the rest of the body is not read: the connection ends


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


def _wants_graphiql(request: Request) -> bool:
    """A browser's GET without a query (Strawberry's own test for showing its IDE)."""
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


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


class GraphQLEndpoint:
    """The /graphql endpoint over HTTP, with its answer cache: an ASGI callable Starlette's
    `Route` serves as it is (a function it would take for a request handler, and wrap)."""

    def __init__(self, settings: Settings, services: Services, graphql: CoopGraphQL) -> None:
        self.settings = settings
        self.services = services
        self.graphql = graphql
        self.answers = Answers(settings.response_cache_mb * 1024 * 1024)
        assert isinstance(graphql.schema, strawberry.Schema)
        self.core_schema = graphql.schema._schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GraphQL over HTTP; a request answered before, at this head, is answered from the
        answer cache before anything else is built for it."""
        request = Request(scope, receive)
        admitted = await self._admitted(request)
        if isinstance(admitted, Response):
            await admitted(scope, receive, send)
            return
        principal, body = admitted
        asked = _raw_key(request, body, principal)
        answer, head = self._kept(request, asked)
        if answer is not None:
            await _send_kept(request, send, answer, principal)
            return
        response = await self._answer(request, principal, body, asked, head)
        await response(scope, receive, send)

    def _over_budget(self, query: QueryOperation) -> bool:
        cost = estimate_cost(
            self.core_schema, query.document, query.name, query.values, self.settings.max_page_size
        )
        return cost > self.settings.max_query_cost

    async def _answered(
        self, request: Request, principal: Principal, asked: RawKey | None, head: int | None
    ) -> Response:
        """A query's answer from the cache when its key is there, else run and kept."""
        query = await _query_of(request, self.graphql.persisted, self.settings.max_tokens)
        if query is None or self._over_budget(query):
            return await self.graphql.run(request)  # refused there, before any SQL
        if head is None:  # not known without waiting: read it (within the request's time)
            try:
                head = await self.services.feed.log_head.position()
            except (SQLAlchemyError, OSError):
                return await self.graphql.run(request)  # it says the database is unavailable
        request.state.head = head  # the operation answers on this head: one read
        key = (*query.key, principal.role, head, wants_graphql_response(request))
        fresh = "no-cache" in request.headers.get("cache-control", "")
        answer = None if fresh else self.answers.get(key)
        if answer is None:
            response = await self.graphql.run(request)
            outcome = getattr(request.state, "outcome", None)
            if response.status_code != 200 or not hasattr(response, "body") or outcome is None:
                return response
            body = bytes(response.body)
            keep, pinned = cacheable(outcome, head)
            media_type = response.headers["content-type"]
            answer = Answer(body, media_type, etag_of(body), pinned, head)
            if not keep:
                return _with_validators(request, response, answer.etag, False, principal)
            self.answers.put(key, answer)
        else:
            response = Response(answer.body, headers={"content-type": answer.media_type})
        if asked is not None:
            self.answers.put(asked, answer)
        return _with_validators(request, response, answer.etag, answer.pinned, principal)

    def _kept(self, request: Request, asked: RawKey) -> tuple[Answer | None, int | None]:
        """The answer kept for these very bytes when it still holds (the request is then
        answered without being decoded, and Strawberry is never entered); else the head,
        when it could be had without waiting."""
        if "no-cache" in request.headers.get("cache-control", ""):
            return None, None
        answer = self.answers.get(asked)
        if answer is None or answer.pinned:  # a pinned answer never changes
            return answer, None
        head = self.services.feed.log_head.current()
        return (answer, head) if head == answer.head else (None, head)

    async def _admitted(self, request: Request) -> tuple[Principal, bytes] | Response:
        """The caller and the body (the query string of a GET); or the response that refuses
        them (or the GraphiQL page)."""
        if self.settings.graphiql and _wants_graphiql(request):
            # The page holds no data: it is served without a token, which is typed into it.
            return HTMLResponse(graphiql_html(self.settings.require_auth_for_reads))
        try:
            principal: Principal = principal_for(
                self.settings, request.headers.get("authorization")
            )
        except BadToken as error:
            return _unauthenticated(str(error))
        if self.settings.require_auth_for_reads and not principal.authenticated:
            return _unauthenticated("this service requires a bearer token for every request")
        request.state.principal = principal
        if request.method == "POST":
            try:
                body = await read_body(
                    request, self.settings.max_body_bytes, self.settings.body_timeout
                )
            except BodyTooLarge as error:
                return error_response(413, ErrorCode.PAYLOAD_TOO_LARGE, str(error), CLOSE)
            except BodyTooSlow as error:
                return error_response(408, ErrorCode.TIMEOUT, str(error), CLOSE)
        else:
            body = request.scope["query_string"]
        return principal, body

    async def _answer(
        self, request: Request, principal: Principal, body: bytes, asked: RawKey, head: int | None
    ) -> Response:
        """The answer of a request the cache did not hold for its very bytes."""
        if request.method == "POST":
            request = with_body(request, body)
        try:
            async with asyncio.timeout(self.settings.request_timeout):
                response = await self._answered(request, principal, asked, head)
        except TimeoutError:
            return _timed_out(self.settings.request_timeout)
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
