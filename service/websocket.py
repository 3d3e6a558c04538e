"""graphql-transport-ws with server pings, and a count of open subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from schema.context import Context
from service.services import Services


class PingingHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Sends the protocol's `ping` while a connection is open, so idle feeds stay alive
    through proxies and a dead peer is noticed."""

    _pinger: asyncio.Task[None] | None = None

    @property
    def services(self) -> Services:
        """The running service's parts (the view that made this handler holds them)."""
        return cast(Services, cast(Any, self.view).services)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping())
            metrics = self.services.metrics
            metrics.connections.inc()

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: Any
    ) -> None:
        """A subscription refused before its first event (its arguments, say) ends with the
        protocol's `error` message, not a `next` carrying the errors."""
        async for result in result_source:
            refused = isinstance(result, ExecutionResult) and result.data is None
            if refused and result.errors and _is_subscription(operation):
                result = PreExecutionError(data=None, errors=result.errors)
            await super()._send_result_stream(operation, _once_then(result, result_source))
            return

    async def _ping(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.services.settings.ws_ping_seconds)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self.services.metrics.connections.dec()
        await super().shutdown()
        await self.context.close()  # the connection the subscriptions' fields read through


async def _once_then(first: Any, rest: Any) -> Any:
    yield first
    async for item in rest:
        yield item


def _is_subscription(operation: Operation[Context, None]) -> bool:
    try:
        document = parse(operation.query)
    except GraphQLError:
        return False
    found = get_operation_ast(document, operation.operation_name)
    return found is not None and found.operation == OperationType.SUBSCRIPTION
