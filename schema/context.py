"""What every resolver can reach for one request: the services, who is asking, the basis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncConnection

from service.auth import ANONYMOUS, Principal
from service.services import Services


@dataclass
class Context:
    """Built anew for every request (and every WebSocket connection)."""

    services: Services
    request: Any
    response: Any = None
    principal: Principal = ANONYMOUS
    connection_params: dict[str, Any] | None = None
    loaders: dict[str, Any] = field(default_factory=dict)
    _connection: AsyncConnection | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _head: int | None = None

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncConnection]:
        """The request's one read connection, used by one query at a time."""
        async with self._lock:
            if self._connection is None:
                self._connection = await self.services.engine.connect()
            yield self._connection

    async def head(self) -> int:
        """The log head as this request first saw it."""
        if self._head is None:
            self._head = (await self.services.store.head()).position
        return self._head

    async def refresh(self) -> None:
        """Forget what this request has read so far: the next read sees the latest commit."""
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None
        self.loaders.clear()
        self._head = None

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


Info = strawberry.Info[Context, None]


def check_may_read(info: Info) -> None:
    """Checked for every event a subscriber is sent, not only when it subscribed: the
    caller's token must still be one the service accepts."""
    principal = info.context.principal
    settings = info.context.services.settings
    if principal.authenticated and principal.actor not in {t.name for t in settings.tokens}:
        raise GraphQLError("the token is no longer valid", extensions={"code": "UNAUTHENTICATED"})
    if settings.require_auth_for_reads and not principal.authenticated:
        raise GraphQLError("a bearer token is required", extensions={"code": "UNAUTHENTICATED"})


def seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def check_may_audit(info: Info, what: str) -> None:
    """Refuse `what` (the log's metadata, the audit view) to callers without the auditor or
    admin role: UNAUTHENTICATED without a token, FORBIDDEN with one of another role."""
    principal = info.context.principal
    if not principal.may_audit:
        code = "FORBIDDEN" if principal.authenticated else "UNAUTHENTICATED"
        raise GraphQLError(
            f"{what} is shown to the auditor and admin roles only", extensions={"code": code}
        )
