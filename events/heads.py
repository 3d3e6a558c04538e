"""The log's head, asked for often and cheaply, and never taken from a stale local value.

A cached answer stays right until the head moves, so every request it serves first asks
where the head is. Through the pool that read cost about as much as the answer itself.

- PostgreSQL: every append NOTIFYs its last position with its commit (`events.feed`). The
  head heard that way is the database's own as soon as the notification arrives; it is
  trusted only while the LISTEN connection is up, once the head has been read from the
  database since that connection was last made, and for `confirm_seconds` after such a
  read (then read again), which bounds what a silently lost notification can cost.
- SQLite: nothing crosses processes, so the head is read every time, on a connection of
  this object's own through the `sqlite3` module: microseconds, without the pool or the
  driver's thread. A read that cannot be made there (the file is busy) goes through the pool.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from urllib.parse import quote

from events.model import AppendResult
from events.store import EventStore

_LAST_POSITION = "SELECT position FROM events ORDER BY position DESC LIMIT 1"


class LogHead:
    """Where the log's head is; `position()` answers it at most `confirm_seconds` behind a
    notification lost without the connection noticing, and otherwise exactly."""

    def __init__(
        self, store: EventStore, listening: Callable[[], bool], *, confirm_seconds: float = 1.0
    ) -> None:
        self.store = store
        self.confirm_seconds = confirm_seconds
        self._listening = listening
        self._latest = -1  # the newest position heard, committed here or read
        self._epoch = 0  # counts the (re)connections of the LISTEN connection
        self._trusted_epoch = -1  # the epoch in which the head was last read
        self._confirmed_at = float("-inf")
        url = store.engine.url
        self._file = url.database if url.get_backend_name() == "sqlite" else None
        if self._file in ("", ":memory:") or (self._file or "").startswith("file:"):
            self._file = None  # not a file another connection can open the same way
        self._sqlite: sqlite3.Connection | None = None
        store.on_commit(self._committed)

    def heard(self, position: int | None) -> None:
        """An append up to `position` committed somewhere; None when the LISTEN connection
        was (re)made, so appends made while it was away are unknown until the next read."""
        if position is None:
            self._epoch += 1
        else:
            self._latest = max(self._latest, position)

    def _committed(self, result: AppendResult) -> None:
        self._latest = max(self._latest, result.last_position)

    async def position(self) -> int:
        """The log's head position (0 on an empty log)."""
        known = self.current()
        return await self._confirm() if known is None else known

    def current(self) -> int | None:
        """The head, when it can be had without waiting on the pool; else None (then ask
        `position`)."""
        if self._file is not None:
            return self._read_file()
        trusted = self._trusted_epoch == self._epoch and self._listening()
        if trusted and time.monotonic() - self._confirmed_at < self.confirm_seconds:
            return self._latest
        return None

    async def _confirm(self) -> int:
        epoch, started = self._epoch, time.monotonic()
        read = (await self.store.head()).position
        self._latest = max(self._latest, read)
        if epoch == self._epoch:  # no (re)connection meanwhile: nothing can have been missed
            self._trusted_epoch, self._confirmed_at = epoch, started
        return self._latest

    def _read_file(self) -> int | None:
        try:
            if self._sqlite is None:
                assert self._file is not None
                # timeout=0: never block the event loop on a lock; fall back to the pool.
                self._sqlite = sqlite3.connect(
                    f"file:{quote(self._file)}?mode=rw",  # never make a file that is not there
                    timeout=0,
                    isolation_level=None,
                    check_same_thread=False,
                    uri=True,
                )
                self._sqlite.execute("PRAGMA query_only = 1")
            row = self._sqlite.execute(_LAST_POSITION).fetchone()
        except sqlite3.Error:
            self.close()
            return None
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
