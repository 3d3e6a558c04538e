"""The GraphQL view: Strawberry's, held to the GraphQL-over-HTTP specification.

`CoopGraphQL` runs the operations of both transports at /graphql: it parses and encodes the
JSON, fills in persisted queries, builds each operation's context, admits WebSocket
connections and shapes HTTP answers (status codes, the media type asked for). The HTTP
endpoint in front of it is service/graphql_http.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult

from domain.errors import ErrorCode
from schema.access import ANONYMOUS
from schema.context import Context
from schema.extensions import coded
from schema.root import Limits, build_schema
from service.auth import BadToken, principal_for
from service.browser.graphiql import graphiql_html
from service.fanout import Fanout
from service.persisted import PersistedQueries
from service.services import Services
from service.websocket import LegacyHandler, PingingHandler

GRAPHQL_RESPONSE = "application/graphql-response+json"
RETRY_AFTER_SECONDS = 1


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
            if wants_graphql_response(request):
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
        elif wants_graphql_response(request):
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


def wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def _request_error(result: ExecutionResult) -> bool:
    """Parse and validation failures: errors before execution, so none has a path."""
    errors = result.errors or []
    return bool(errors) and all(error.path is None for error in errors)
