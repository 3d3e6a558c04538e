"""What every resolver can reach for one request: the services, who is asking, the basis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import ErrorCode
from domain.handling import Commands
from events.backends import backend_of
from events.feed import ChangeFeed
from events.store import EventStore
from schema.access import ANONYMOUS, Principal
from schema.errors import coded_error


class Named(Protocol):
    @property
    def name(self) -> str: ...


class SchemaSettings(Protocol):
    """The settings the GraphQL layer reads."""

    @property
    def max_page_size(self) -> int: ...
    @property
    def max_query_cost(self) -> int: ...
    @property
    def request_timeout(self) -> float: ...
    @property
    def require_auth_for_reads(self) -> bool: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def tokens(self) -> Sequence[Named]: ...
    @property
    def compile_reads(self) -> bool: ...


class Services(Protocol):
    """What the GraphQL layer reads and writes through; the running service provides it."""

    @property
    def settings(self) -> SchemaSettings: ...
    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def store(self) -> EventStore: ...
    @property
    def feed(self) -> ChangeFeed: ...
    @property
    def commands(self) -> Commands: ...


@dataclass
class Operation:
    """What one operation reads through: its connection, loaders, the head it first saw, and
    the bases its root fields answered on. One per operation, not per context: the
    operations of a WebSocket connection share one context and may run at once."""

    connection: AsyncConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaders: dict[object, Any] = field(default_factory=dict)
    head: int | None = None
    bases: dict[str, dict[str, Any]] = field(default_factory=dict)
    cost: dict[str, int] | None = None  # the estimate it was admitted on, and the limit
    # When (event loop time) its statements are interrupted; None: never (subscriptions).
    deadline: float | None = None
    interrupts: list[asyncio.Task[None]] = field(default_factory=list)
    # Set when the operation's answer is complete; a field still running (a sibling of one
    # that failed) then reads on connections of its own, as its answer is discarded anyway.
    finished: bool = False


_operation: ContextVar[Operation | None] = ContextVar("coop_operation", default=None)


def begin_operation() -> Operation:
    """Start the state of the operation now running (in this task and those it starts)."""
    operation = Operation()
    _operation.set(operation)
    return operation


@dataclass
class FeedWindow:
    """How the service runs a feed subscription, when it shares one execution among many
    subscribers: from where (`after` replaces the argument), until where (`join`, given the
    position the feed starts after, returns the last position to read), and the position of
    the event the feed yielded last (for the service to label the answer with)."""

    after: int | None = None
    join: Callable[[int], Awaitable[int]] | None = None
    position: int = 0
    recorded_at: datetime | None = None
    # Access is checked per subscriber by whoever delivers the answers, not per execution.
    shared: bool = False
    # The events feed's `types` and `streamIds` are applied per subscriber by whoever
    # delivers the answers: the execution yields every event.
    unfiltered: bool = False
    event_type: str | None = None  # of the event the feed yielded last
    stream_id: str | None = None


@dataclass
class Context:
    """Built anew for every request (and every WebSocket connection)."""

    services: Services
    request: Any
    response: Any = None
    principal: Principal = ANONYMOUS
    connection_params: dict[str, Any] | None = None
    window: FeedWindow = field(default_factory=FeedWindow)
    known_head: int | None = None  # the head the request was looked up at, read already
    _outside: Operation = field(default_factory=Operation)  # used outside any operation

    @property
    def operation(self) -> Operation:
        return _operation.get() or self._outside

    @property
    def loaders(self) -> dict[object, Any]:
        return self.operation.loaders

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncConnection]:
        """The operation's one read connection, used by one query at a time."""
        operation = self.operation
        async with operation.lock:
            if operation.finished:
                async with self.services.engine.connect() as connection:
                    yield connection
                return
            if operation.connection is None:
                operation.connection = await self.services.engine.connect()
            with _interrupted_at(operation, operation.connection):
                yield operation.connection

    async def head(self) -> int:
        """The log head as this operation first saw it, read on the operation's connection."""
        operation = self.operation
        if operation.head is None and self.known_head is not None:
            operation.head = self.known_head
        if operation.head is None:
            async with self.db() as connection:
                if operation.head is None:
                    operation.head = (await self.services.store.head(connection)).position
        return operation.head

    async def refresh(self) -> None:
        """Forget what this operation has read so far: the next read sees the latest commit."""
        operation = self.operation
        async with operation.lock:
            if operation.connection is not None:
                await operation.connection.close()
                operation.connection = None
            operation.finished = False
        operation.loaders.clear()
        operation.head = None

    async def close(self) -> None:
        """Give the operation's connection back, once no field is using it."""
        operation = self.operation
        async with operation.lock:
            operation.finished = True
            if operation.connection is not None:
                await operation.connection.close()
                operation.connection = None


@contextmanager
def _interrupted_at(operation: Operation, connection: AsyncConnection) -> Iterator[None]:
    """Stop the statement running on `connection` once the operation's deadline passes."""
    if operation.deadline is None:
        yield
        return
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        operation.interrupts.append(loop.create_task(backend_of(connection).interrupt(connection)))

    timer = loop.call_at(operation.deadline, interrupt)
    try:
        yield
    finally:
        timer.cancel()


Info = strawberry.Info[Context, None]


def check_may_read(info: Info) -> None:
    """Checked for every event a subscriber is sent, not only when it subscribed: the
    caller's token must still be one the service accepts."""
    check_principal_may_read(info.context.principal, info.context.services.settings)


def check_principal_may_read(principal: Principal, settings: SchemaSettings) -> None:
    """Raise UNAUTHENTICATED unless `principal` may read under `settings` now."""
    if principal.authenticated and principal.actor not in {t.name for t in settings.tokens}:
        raise coded_error(ErrorCode.UNAUTHENTICATED, "the token is no longer valid")
    if settings.require_auth_for_reads and not principal.authenticated:
        raise coded_error(ErrorCode.UNAUTHENTICATED, "a bearer token is required")


def check_may_audit(info: Info, what: str) -> None:
    """Refuse `what` (the log's metadata, the audit view) to callers without the auditor or
    admin role: UNAUTHENTICATED without a token, FORBIDDEN with one of another role."""
    principal = info.context.principal
    if not principal.may_audit:
        code = ErrorCode.FORBIDDEN if principal.authenticated else ErrorCode.UNAUTHENTICATED
        raise coded_error(code, f"{what} is shown to the auditor and admin roles only")
