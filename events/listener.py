"""A LISTEN that outlives its connection: when the database drops it (a restart, a failover,
`pg_terminate_backend`), it is made again with backoff, and every time it is (re)made the
listener says it heard something, so followers read the log after their last position and
miss nothing appended while no one was listening."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

FIRST_DELAY, MAX_DELAY = 0.1, 5.0  # seconds between attempts: doubled up to the maximum


class ReconnectingListener:
    """LISTEN `channel` on a connection of its own; `heard` is called with each notification's
    payload, and with None after each (re)connection. `connected` says whether it is
    listening now."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        channel: str,
        heard: Callable[[str | None], None],
        *,
        check_seconds: float = 5.0,
    ) -> None:
        self._connect = connect
        self.channel = channel
        self._heard = heard
        self.check_seconds = check_seconds  # how often an idle connection is proven alive
        self.connected = False
        self.reconnections = 0
        self._tried = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin listening; returns once the first attempt has succeeded or failed."""
        self._task = asyncio.create_task(self._run(), name=f"listen {self.channel}")
        await self._tried.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay, attempts = FIRST_DELAY, 0
        while True:
            attempts += 1
            try:
                connection = await self._connect()
            except Exception as error:  # the database is down or refuses: wait, try again
                log.warning(
                    "LISTEN %s: cannot connect (%s); again in %.1fs", self.channel, error, delay
                )
                self._tried.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
                continue
            delay = FIRST_DELAY
            try:
                await self._listen(connection, reconnected=attempts > 1)
            except Exception as error:
                log.warning(
                    "LISTEN %s: connection lost (%s); connecting again", self.channel, error
                )
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    connection.terminate()

    async def _listen(self, connection: Any, *, reconnected: bool) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(
            self.channel, lambda _c, _pid, _channel, payload: self._heard(payload)
        )
        self.connected = True
        if reconnected:
            self.reconnections += 1
            log.info("LISTEN %s: connected again", self.channel)
        self._tried.set()
        self._heard(None)  # read what was appended while no one was listening
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_seconds):
                    await lost.wait()
            if not lost.is_set():  # idle: prove the connection is alive (a silent cut)
                async with asyncio.timeout(self.check_seconds):
                    await connection.fetchval("SELECT 1")
