"""Schema extensions: error codes and masking, the basis echo, and per-request cleanup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.errors import DomainError, ErrorCode
from events.faults import database_unavailable
from schema.context import begin_operation
from schema.cost import estimate_cost, too_costly
from schema.errors import bad_input
from schema.inputs import check_strings

log = logging.getLogger("coop.graphql")

MASKED = "Unexpected error: the service could not answer this; it has been logged."
UNAVAILABLE = "The database is unavailable right now; try again shortly."


def coded(error: GraphQLError) -> GraphQLError:
    """The error as clients see it: a stable `extensions.code`, unexpected ones masked."""
    original = error.original_error
    if error.extensions and "code" in error.extensions:
        return error
    if original is None:
        code = (
            ErrorCode.GRAPHQL_VALIDATION_FAILED if error.nodes else ErrorCode.GRAPHQL_PARSE_FAILED
        )
        return _with(error, error.message, code)
    if isinstance(original, DomainError):
        return _with(error, original.message, original.code, original.details)
    if isinstance(original, GraphQLError) and original.extensions:
        return _with(
            error, original.message, original.extensions.get("code", ErrorCode.BAD_USER_INPUT)
        )
    if error.path is None and isinstance(original, ValueError | TypeError | GraphQLError):
        # Raised before any resolver ran: the request's variables could not be coerced
        # (a String given 5, a date that does not exist). The message says which.
        return _with(error, error.message, ErrorCode.BAD_USER_INPUT)
    if database_unavailable(original):
        log.warning("database unavailable at %s: %s", error.path, original)
        return _with(error, UNAVAILABLE, ErrorCode.UNAVAILABLE)
    log.error("unexpected error at %s", error.path, exc_info=original)
    return _with(error, MASKED, ErrorCode.INTERNAL_SERVER_ERROR)


def _with(
    error: GraphQLError, message: str, code: str, details: dict[str, Any] | None = None
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **(details or {}), "code": str(code)},
    )


class RequestScope(SchemaExtension):
    """Codes every error, echoes the basis each root field answered on, frees the connection."""

    def on_operation(self) -> Iterator[None]:
        self.operation = begin_operation()
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded(error) for error in result.errors]

    async def on_execute(self) -> Any:
        context = self.execution_context.context
        over_http = getattr(getattr(context, "request", None), "scope", {}).get("type") == "http"
        if over_http and self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            raise bad_input(
                "subscriptions are served over WebSocket (the graphql-transport-ws protocol)"
                " on this same path, not over HTTP"
            )
        execution = self.execution_context
        if execution.graphql_document is not None:
            check_strings(execution.graphql_document, execution.variables)
            self._check_cost(context)
        if over_http:
            timeout = context.services.settings.request_timeout
            self.operation.deadline = asyncio.get_running_loop().time() + timeout
        try:
            yield
        finally:
            context = self.execution_context.context
            if hasattr(context, "close"):
                await context.close()

    def _check_cost(self, context: Any) -> None:
        """Refuse an operation that could return more objects than the budget allows."""
        execution = self.execution_context
        settings = context.services.settings
        assert execution.graphql_document is not None
        estimate = estimate_cost(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
            settings.max_page_size,
        )
        self.operation.cost = {"estimated": estimate, "limit": settings.max_query_cost}
        # In-process callers (the record pages, request None) run the service's own
        # documents, each page bounded by COOP_MAX_PAGE_SIZE: the budget is for clients'.
        if estimate > settings.max_query_cost and context.request is not None:
            raise too_costly(estimate, settings.max_query_cost)

    def get_results(self) -> dict[str, Any]:
        operation = getattr(self, "operation", None)  # None if it never started
        if operation is None:
            return {}
        results: dict[str, Any] = {}
        if operation.bases:
            results["basis"] = operation.bases
        # Not in a subscription's events: each would repeat what the subscription was
        # admitted on.
        # A cost is set only once the document parsed, so the operation has a type.
        execution = self.execution_context
        if (
            operation.cost is not None
            and execution.operation_type is not OperationType.SUBSCRIPTION
        ):
            results["cost"] = operation.cost
        return results
