"""The change feed: tells followers the log has grown; they read what is new from the log itself.

Nothing is buffered per follower: each one reads the log after the last position it
delivered, at its own pace, so a slow follower never holds back the writer or the others,
and a lost wake-up costs at most one poll interval, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import AppendResult, RecordedEvent
from events.store import EventStore

log = logging.getLogger(__name__)

CHANNEL = "coop_events"


class ChangeFeed:
    """Wakes followers of one store when it grows, in this process or (on PostgreSQL) any."""

    def __init__(self, store: EventStore, *, poll_seconds: float = 5.0, page: int = 500) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.page = page
        self._wakers: set[asyncio.Event] = set()
        self._closed = False
        self._listener: Any = None
        store.on_commit(self._committed)
        if store.engine.dialect.name == "postgresql":
            store.on_append(self._notify)

    @property
    def followers(self) -> int:
        return len(self._wakers)

    @staticmethod
    async def _notify(connection: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        # Sent with the append's transaction, so other processes hear of it only once it commits.
        await connection.execute(
            text("SELECT pg_notify(:channel, :position)"),
            {"channel": CHANNEL, "position": str(recorded[-1].position)},
        )

    def _committed(self, _result: AppendResult) -> None:
        self.wake()

    def wake(self) -> None:
        for waker in self._wakers:
            waker.set()

    async def start(self) -> None:
        """On PostgreSQL, listen for appends made by other processes."""
        if self.store.engine.dialect.name != "postgresql" or self._listener is not None:
            return
        import asyncpg

        url = self.store.engine.url.set(drivername="postgresql")
        self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._listener.add_listener(CHANNEL, lambda *_: self.wake())

    async def close(self) -> None:
        """End every follow loop cleanly and stop listening."""
        self._closed = True
        self.wake()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

    async def follow(
        self,
        after: int | None = None,
        *,
        types: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
    ) -> AsyncIterator[RecordedEvent]:
        """Every matching event after `after` (from now on when None), then live, in order."""
        waker = asyncio.Event()
        self._wakers.add(waker)
        try:
            last = (await self.store.head()).position if after is None else after
            while not self._closed:
                waker.clear()
                batch = await self.store.read_all(
                    after=last, limit=self.page, types=types, streams=streams
                )
                for event in batch:
                    yield event
                    last = event.position
                if len(batch) == self.page:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), self.poll_seconds)
        finally:
            self._wakers.discard(waker)
