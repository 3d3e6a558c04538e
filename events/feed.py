"""The change feed: one reader per process tails the log; followers take what is new from it.

When the log grows, one read fetches the new events into a shared window of the newest
ones (this process's own appends go into it as they commit, with no read, when they follow
its newest event directly); every follower takes what it has not yet delivered from that
window, at its own pace. Nothing is buffered per follower, so a slow one never holds back
the writer or the others; one that falls behind the window catches up by reading the log
itself, then rejoins it. A lost wake-up costs at most one poll interval, never an event.
Writers go first: while an append of this process is under way, followers wait (up to
`writers_first` seconds) before reading or taking their next event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from events.backends import backend_of
from events.backends.base import Listener
from events.faults import database_unavailable, patiently
from events.heads import LogHead
from events.model import AppendResult, RecordedEvent
from events.store import EventStore

log = logging.getLogger(__name__)

CHANNEL = "coop_events"
UNKNOWN = sys.maxsize
T = TypeVar("T")


class ChangeFeed:
    """Wakes followers of one store when it grows, in this process or (on PostgreSQL) any."""

    def __init__(
        self,
        store: EventStore,
        *,
        poll_seconds: float = 5.0,
        page: int = 500,
        window: int = 2000,
        writers_first: float = 0.05,
    ) -> None:
        self.store = store
        self.writers_first = writers_first
        self.poll_seconds = poll_seconds
        self.page = page
        self.window = window
        self._wakers: set[asyncio.Event] = set()
        self._closed = False
        # The shared window: the newest events read, with contiguous positions up to _tail.
        self._recent: list[RecordedEvent] = []
        self._tail: int | None = None
        self._generation = 0  # bumped by every wake-up
        self._read_generation = -1  # the wake-up the last read answered
        # The newest position heard of that the window may not hold (UNKNOWN: cannot tell).
        self._unread = UNKNOWN
        self._read_at = 0.0
        self._reading = asyncio.Lock()
        self._listener: Listener | None = None
        self._backend = backend_of(store.engine)
        self.log_head = LogHead(store, self._listening_now)
        store.on_commit(self._committed)
        store.on_append(self._notify)

    @property
    def known_head(self) -> int:
        """The newest position this feed has read (-1 before its first read): the log's
        head is at least this, with no need to ask the database."""
        return -1 if self._tail is None else self._tail

    def _listening_now(self) -> bool:
        return self._listener is not None and self._listener.connected

    @property
    def followers(self) -> int:
        return len(self._wakers)

    @property
    def listening(self) -> bool:
        """False while the connection that hears other processes' appends is being made
        again (PostgreSQL); followers are then woken by the poll alone."""
        return self._listener is None or self._listener.connected

    @property
    def reconnections(self) -> int:
        """How many times that connection was lost and made again."""
        return 0 if self._listener is None else self._listener.reconnections

    async def _patiently(self, read: Callable[[], Awaitable[T]]) -> T:
        """A read that waits out a database outage (until the feed is closed)."""
        return await patiently(read, given_up=lambda: self._closed)

    async def _notify(self, connection: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        # Sent with the append's transaction, so other processes hear of it only once it commits.
        await self._backend.notify(connection, CHANNEL, str(recorded[-1].position))

    def _committed(self, result: AppendResult) -> None:
        if not self._take(result):
            self._unread = max(self._unread, result.last_position)
            self.wake()
            return
        self.wake()
        self._read_generation = self._generation  # nothing else is new: no read

    def _take(self, result: AppendResult) -> bool:
        """This process's own append, into the window without reading it back, when it
        follows the window's newest event and nothing else is waiting to be read (another
        process's append, or a read under way that may bring it too)."""
        events = result.events
        if (
            result.replayed
            or not events
            or self._tail is None
            or events[0].position != self._tail + 1
            or self._reading.locked()
            or self._unread > events[-1].position
        ):
            return False
        self._recent.extend(events)
        self._tail, self._unread = events[-1].position, -1
        if len(self._recent) > 2 * self.window:
            del self._recent[: -self.window]
        return True

    def _heard(self, payload: str | None) -> None:
        """A notification (the last position an append wrote), or None: the LISTEN
        connection was (re)made."""
        position = int(payload) if payload and payload.isdigit() else None
        self.log_head.heard(position)
        if position is not None and self._tail is not None and position <= self._tail:
            return  # the window has it already (this process's own append)
        self._unread = UNKNOWN if position is None else max(self._unread, position)
        self.wake()

    def wake(self) -> None:
        self._generation += 1
        for waker in self._wakers:
            waker.set()

    async def start(self) -> None:
        """Learn the head, and listen for appends made by other processes (where the engine
        can tell)."""
        if self._tail is None:
            try:
                self._tail = (await self.store.head()).position
            except Exception as error:  # the first read will learn it, once the database answers
                if not database_unavailable(error):
                    raise
        if self._listener is None:
            self._listener = await self._backend.listen(self.store.engine.url, CHANNEL, self._heard)

    async def close(self) -> None:
        """End every follow loop cleanly and stop listening."""
        self._closed = True
        self.log_head.close()
        self.wake()
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def follow(
        self,
        after: int | None = None,
        *,
        until: int | None = None,
        types: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
    ) -> AsyncIterator[RecordedEvent]:
        """Every matching event after `after` (from now on when None), then live, in order;
        with `until`, only those up to that position, and then the iteration ends."""
        wanted_types = set(types) if types else None
        wanted_streams = set(streams) if streams else None
        appending = self.store.appending
        async with contextlib.aclosing(self._batches(after, until, types, streams)) as batches:
            async for batch in batches:
                for event in batch:
                    if until is not None and event.position > until:
                        return
                    if (wanted_types is None or event.type in wanted_types) and (
                        wanted_streams is None or event.stream_id in wanted_streams
                    ):
                        if appending.count:
                            await appending.quiet(self.writers_first)
                        yield event

    def batches(self, after: int) -> AsyncGenerator[list[RecordedEvent]]:
        """Every event after `after`, then live, in order, in the lists they were read in:
        a reader that takes a while over one list finds all that came meanwhile in the next."""
        return self._batches(after, None, None, None)

    async def _batches(
        self,
        after: int | None,
        until: int | None,
        types: Sequence[str] | None,
        streams: Sequence[str] | None,
    ) -> AsyncGenerator[list[RecordedEvent]]:
        waker = asyncio.Event()
        self._wakers.add(waker)
        try:
            if after is None:
                after = (await self._patiently(self.store.head)).position
            last = after
            appending = self.store.appending
            while not self._closed and (until is None or last < until):
                waker.clear()
                if self._unread_wakes():
                    await appending.quiet(self.writers_first)
                    await self._patiently(self._read_new)
                batch = self._window_after(last)
                if batch is None:  # behind the window: catch up from the log itself
                    await appending.quiet(self.writers_first)
                    tail = self._tail or 0
                    read = functools.partial(
                        self.store.read_all,
                        after=last,
                        limit=self.page,
                        until=until,
                        types=types,
                        streams=streams,
                    )
                    found = await self._patiently(read)
                    if found:
                        yield found
                        last = found[-1].position
                    if len(found) < self.page:
                        last = max(last, tail if until is None else until)
                    continue
                if batch:
                    yield batch
                    last = batch[-1].position
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await waker.wait()
        finally:
            self._wakers.discard(waker)

    def _window_after(self, last: int) -> list[RecordedEvent] | None:
        """The window's events after `last`, or None when `last` is older than the window."""
        if self._tail is None or last > self._tail:
            return None
        first = self._recent[0].position if self._recent else self._tail + 1
        if last < first - 1:
            return None
        return self._recent[last - first + 1 :]

    def _unread_wakes(self) -> bool:
        """Whether a wake-up (or the poll interval) came since the last read."""
        fresh = time.monotonic() - self._read_at < self.poll_seconds
        return self._read_generation != self._generation or not fresh

    async def _read_new(self) -> None:
        """One read for the whole process per wake-up (or per poll interval)."""
        async with self._reading:
            if not self._unread_wakes():
                return
            # Marked read only once the read succeeded: a read the database cut short is
            # made again, not taken for done. What is heard during the read is counted
            # afresh, so that a notification of an event the read brings needs no other.
            generation, started = self._generation, time.monotonic()
            unread, self._unread = self._unread, -1
            try:
                if self._tail is None:
                    self._tail = (await self.store.head()).position
                while True:
                    found = await self.store.read_all(after=self._tail, limit=self.page)
                    self._recent.extend(found)
                    if found:
                        self._tail = found[-1].position
                    if len(self._recent) > 2 * self.window:
                        del self._recent[: -self.window]
                    if len(found) < self.page:
                        break
            except BaseException:
                self._unread = max(self._unread, unread)
                raise
            self._read_at = started
            if self._unread <= self._tail:  # every wake-up since it began is answered
                self._unread, self._read_generation = -1, self._generation
            else:
                self._read_generation = generation
