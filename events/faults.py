"""Which database errors are faults of the moment (the database is down, restarting, out of
connections or cut off) rather than a fault of the request or of the code.

A caller that meets one may try again later: the service answers UNAVAILABLE, a feed waits
and reads on from where it was.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy import exc

log = logging.getLogger(__name__)

# SQLSTATE classes and codes of a database that cannot serve now: 08 connection exception,
# 53 insufficient resources (too many connections), 57P01-57P03 admin or crash shutdown and
# "the database system is starting up".
_UNAVAILABLE_STATES = ("08", "53", "57P01", "57P02", "57P03")
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (a driver's error), and what caused each, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind an error, if any of its causes carries one."""
    for cause in causes(error):
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def database_unavailable(error: BaseException) -> bool:
    """Does `error` say the database cannot be reached or cannot serve right now?"""
    state = sqlstate(error)
    if state is not None:
        return state.startswith(_UNAVAILABLE_STATES)
    for cause in causes(error):
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, OSError | exc.TimeoutError | exc.DisconnectionError):
            return True  # refused, reset, timed out; OSError includes ConnectionError
        if isinstance(cause, sqlite3.OperationalError):
            return str(cause).lower().startswith(_SQLITE_UNAVAILABLE)
        if type(cause).__name__ in ("ConnectionDoesNotExistError", "InterfaceError") and (
            "closed" in str(cause) or "connection" in str(cause).lower()
        ):
            return True  # asyncpg: the connection was lost under the query
    return False


T = TypeVar("T")


async def patiently(
    read: Callable[[], Awaitable[T]],
    *,
    given_up: Callable[[], bool] = lambda: False,
    max_delay: float = 1.0,
) -> T:
    """`read()`, tried again with backoff for as long as the database is unavailable (or until
    `given_up()`): what waits for the database to come back instead of failing."""
    delay = 0.05
    while True:
        try:
            return await read()
        except Exception as error:
            if given_up() or not database_unavailable(error):
                raise
            log.warning("waiting for the database (%s); again in %.2fs", error, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
