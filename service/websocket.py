"""The two WebSocket protocols, with shared execution of subscriptions.

`graphql-transport-ws` (the graphql-ws library's protocol) with server pings; and the
legacy `graphql-ws` (Apollo's subscriptions-transport-ws, still what some clients speak
first) in full: queries, mutations and subscriptions, keep-alive, and a refused
`connection_init` answered with a message. Where a client offers both, the server picks
`graphql-transport-ws`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import aclosing
from dataclasses import replace
from typing import Any, cast

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from domain.errors import ErrorCode
from schema.context import Context
from schema.errors import coded_error
from service.fanout import Fanout
from service.fanout_operations import subscription
from service.observability import SERVER_SEND
from service.services import Services


class ServedBy:
    """What a protocol handler reaches through the view that made it."""

    view: Any

    @property
    def services(self) -> Services:
        """The running service's parts."""
        return cast(Services, self.view.services)

    @property
    def fanout(self) -> Fanout:
        """The groups of subscribers sharing executions."""
        return cast(Fanout, self.view.fanout)


class PingingHandler(ServedBy, BaseGraphQLTransportWSHandler[Context, None]):
    """Sends the protocol's `ping` while a connection is open, so idle feeds stay alive
    through proxies and a dead peer is noticed; runs subscriptions through the fan-out."""

    _pinger: asyncio.Task[None] | None = None

    @property
    def caller(self) -> str | None:
        """Whom the per-token cap counts: the token's name; None for an anonymous caller, who
        may share an address with many others (behind a NAT or a proxy)."""
        principal = self.context.principal
        return f"token:{principal.actor}" if principal.authenticated else None

    @property
    def open_by_caller(self) -> dict[str, set[PingingHandler]]:
        """The connections of each caller, kept by the view for all its sockets."""
        return cast(dict[str, set[PingingHandler]], self.view.open_by_caller)

    async def handle_connection_init(self, message: Any) -> None:
        if await self._malformed(message.get("payload")):
            return
        if not self.connection_init_received and await self._refused(message.get("payload")):
            return
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.caller is not None:
            self.open_by_caller.setdefault(self.caller, set()).add(self)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping())
            metrics = self.services.metrics
            metrics.connections.inc()

    async def _malformed(self, payload: object) -> bool:
        """An `authorization` that is not text closes the socket with 4400 (the protocol's
        code for a malformed message), rather than passing as anonymous."""
        if not isinstance(payload, dict):
            return False
        authorization = payload.get("authorization", payload.get("Authorization"))
        if authorization is None or isinstance(authorization, str):
            return False
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        await self.websocket.close(code=4400, reason="authorization must be 'Bearer <token>'")
        return True

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.services.settings.ws_max_subscriptions_per_token
        caller = self.caller
        held = sum(len(h.operations) for h in self.open_by_caller.get(caller or "", ()))
        if self.connection_acknowledged and caller is not None and held >= limit:
            error = coded_error(
                ErrorCode.BAD_USER_INPUT,
                f"this token already holds {held} operations open, its limit"
                " (COOP_WS_MAX_SUBSCRIPTIONS_PER_TOKEN): complete one first",
            )
            await self.send_message(
                {"id": message.get("id"), "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def _refused(self, payload: object) -> bool:
        """A refused `connection_init` closes the socket with 4403 and the reason (the
        protocol's code; the reason tells a client which token, and why)."""
        params = payload if isinstance(payload, dict) else {}
        try:
            await self.view.on_ws_connect(replace(self.context, connection_params=params))
        except ConnectionRejectionError as error:
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            reason = str(error.payload.get("message", "Forbidden"))[:120]
            await self.websocket.close(code=4403, reason=reason)
            return True
        return False

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        shared = subscription(
            operation.query,
            operation.variables,
            operation.operation_name,
            self.context.principal.role,
        )
        if shared is None:  # a query or a mutation, or what does not parse
            await super().run_operation(operation)
            return
        await self.fanout.serve(shared, self.context, TransportOutlet(self, operation))
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _ping(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.services.settings.ws_ping_seconds)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        self.open_by_caller.get(self.caller or "", set()).discard(self)
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self.services.metrics.connections.dec()
        await super().shutdown()
        await self.context.close()  # the connection the subscriptions' fields read through


class Wire:
    """A WebSocket served by uvicorn's default implementation, written to directly: whole
    frames onto its transport, with no task and no await, while it is open and its buffer
    below the transport's high-water mark. Any other server: None, and every message takes
    the ASGI path."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self.protocol = protocol

    @classmethod
    def of(cls, websocket: Any) -> Wire | None:
        """The wire under Strawberry's adapter of a Starlette WebSocket, where there is one."""
        scope = getattr(getattr(websocket, "ws", None), "scope", {})
        protocol = getattr(scope.get(SERVER_SEND), "__self__", None)
        return cls(protocol) if isinstance(protocol, WebSocketsSansIOProtocol) else None

    def writable(self) -> bool:
        protocol = self.protocol
        return (
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.writable.is_set()  # cleared while the transport's buffer is full
            and not protocol.transport.is_closing()
        )

    def write(self, frames: bytes) -> None:
        self.protocol.transport.write(frames)


class TransportOutlet:
    """One subscription's messages in graphql-transport-ws: `next`, `error`."""

    def __init__(self, handler: PingingHandler, operation: Operation[Context, None]) -> None:
        self.handler = handler
        self.operation = operation
        self.text_prefix = f'{{"id":{json.dumps(operation.id)},"type":"next","payload":'
        self.prefix = self.text_prefix.encode()
        self.wire = Wire.of(handler.websocket)

    def frame(self, payload: str) -> str:
        return f"{self.text_prefix}{payload}}}"

    async def send(self, message: str) -> None:
        if not self.operation.completed:
            await send_text(self.handler.websocket, message)

    async def refuse(self, errors: list[GraphQLError]) -> None:
        await self.operation.send_initial_errors(errors)

    def writable(self) -> bool:
        # A client's `complete` removes the operation before its task is cancelled: from then
        # on nothing more is written for it (its id may already name a new subscription).
        return (
            self.wire is not None
            and not self.operation.completed
            and self.handler.operations.get(self.operation.id) is self.operation
            and self.wire.writable()
        )

    def write(self, frames: bytes) -> None:
        if self.wire is not None:
            self.wire.write(frames)


async def send_text(websocket: Any, message: str) -> None:
    """Send text already encoded (the same text goes to every member of a group)."""
    await websocket.ws.send_text(message)


class LegacyHandler(ServedBy, BaseGraphQLWSHandler[Context, None]):
    """The legacy `graphql-ws` protocol: every operation type, not only subscriptions."""

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self._reject({"message": "connection_init's payload must be an object"})
            return
        self.context.connection_params = payload
        try:
            await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as error:
            await self._reject(error.payload)
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self.services.metrics.connections.inc()
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def _reject(self, payload: dict[str, object]) -> None:
        """`connection_error` with a message, then the socket closes with 4403 and it."""
        await self.send_message({"type": "connection_error", "payload": payload})
        await self.websocket.close(code=4403, reason=str(payload.get("message", ""))[:120])

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        role = self.context.principal.role
        shared = subscription(query, variables, operation_name, role)
        try:
            if shared is None:
                if not await self._answer(operation_id, query, operation_name, variables):
                    return
            else:
                outlet = LegacyOutlet(self, operation_id)
                await self.fanout.serve(shared, self.context, outlet)
                if outlet.refused:
                    return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:  # `stop`, or the socket closed
            with contextlib.suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def _answer(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> bool:
        """A query or mutation: one `data` message; False when it was refused instead."""
        results = await self.schema.stream(
            query,
            variable_values=variables,
            context_value=self.context,
            operation_name=operation_name,
        )
        async with aclosing(results):
            async for result in results:
                if isinstance(result, PreExecutionError) and result.errors:
                    await self._refuse(operation_id, result.errors)
                    return False
                if isinstance(result, ExecutionResult):
                    await self.send_data_message(result, operation_id)
        return True

    async def _refuse(self, operation_id: str, errors: list[GraphQLError]) -> None:
        payload = errors[0].formatted
        await self.send_message({"type": "error", "id": operation_id, "payload": payload})

    async def cleanup(self) -> None:
        await super().cleanup()
        if self.connection_acknowledged:
            self.services.metrics.connections.dec()
        await self.context.close()


class LegacyOutlet:
    """One subscription's messages in the legacy protocol: `data`, `error`."""

    def __init__(self, handler: LegacyHandler, operation_id: str) -> None:
        self.handler = handler
        self.operation_id = operation_id
        self.text_prefix = f'{{"type":"data","id":{json.dumps(operation_id)},"payload":'
        self.prefix = self.text_prefix.encode()
        self.wire = Wire.of(handler.websocket)
        self.refused = False

    def frame(self, payload: str) -> str:
        return f"{self.text_prefix}{payload}}}"

    def writable(self) -> bool:
        return self.wire is not None and self.wire.writable()

    def write(self, frames: bytes) -> None:
        if self.wire is not None:
            self.wire.write(frames)

    async def send(self, message: str) -> None:
        await send_text(self.handler.websocket, message)

    async def refuse(self, errors: list[GraphQLError]) -> None:
        self.refused = True
        await self.handler._refuse(self.operation_id, errors)
