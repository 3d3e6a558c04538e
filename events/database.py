"""Engines for the two supported databases, with the settings each needs for the log."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from events.backends import backend_of

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_WRITE = "coop_write"


def async_url(url: str) -> str:
    """Accept `sqlite:///file.db` or `postgresql://...` and name the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


def base64url(text: str | None) -> str | None:
    """URL-safe base64 of a text (as ids and cursors are spelled); None stays None."""
    return None if text is None else base64.urlsafe_b64encode(text.encode()).decode()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    engine = create_async_engine(async_url(url), **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def private_file(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
        # A new database file is readable by its owner alone (SQLite would make it 0644);
        # its -wal and -shm files take the same mode from it.
        name = cargs[0] if cargs else cparams.get("database")
        if isinstance(name, str) and name and name != ":memory:" and not cparams.get("uri"):
            with contextlib.suppress(FileExistsError, FileNotFoundError):
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))

    @event.listens_for(engine.sync_engine, "do_connect")
    def stop_cleanly_on_failure(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
        cparams["async_creator_fn"] = _open_sqlite

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # Compiled reads spell cursors and global ids in SQL; SQLite has no base64 of its own.
        dbapi_connection.create_function("coop_base64url", 1, base64url, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        # BEGIN IMMEDIATE serialises writers at the start, so positions follow commit order.
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def _open_sqlite(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """aiosqlite.connect, as SQLAlchemy calls it, but a connection that fails to open waits
    for its worker thread to stop: aiosqlite only queues the stop, with a future on this
    event loop that the thread resolves; were the loop closed first (a command that exits,
    a test that ends), the thread would die of "Event loop is closed"."""
    connection = aiosqlite.connect(*args, **kwargs)
    connection._thread.daemon = True  # as SQLAlchemy makes it: never keeps the process up
    try:
        return await connection
    except BaseException:
        await asyncio.to_thread(connection._thread.join)
        raise


@asynccontextmanager
async def write_transaction(
    engine: AsyncEngine, *, lock: bool = True
) -> AsyncIterator[AsyncConnection]:
    """A transaction that holds the log's write lock from its start until it commits.

    `lock=False` leaves taking the lock to the caller's first statement (an append reads
    the head in the same call, on PostgreSQL), which saves a round trip; SQLite's BEGIN
    IMMEDIATE always takes it.
    """
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{_WRITE: True})
        async with connection.begin():
            if lock:
                await backend_of(connection).lock_log(connection)
            yield connection


@asynccontextmanager
async def read_transaction(connection: AsyncConnection) -> AsyncIterator[None]:
    """A transaction on `connection` (a writing one too) that takes no write lock where it
    starts: a plain BEGIN on SQLite, whose writes to temporary tables need none."""
    sync = connection.sync_connection
    assert sync is not None  # started by `engine.connect()`
    was = sync.get_execution_options().get(_WRITE, False)
    await connection.execution_options(**{_WRITE: False})
    try:
        async with connection.begin():
            yield
    finally:
        await connection.execution_options(**{_WRITE: was})


@asynccontextmanager
async def writing_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection for a bulk path that commits page by page: each `begin()` on it is a
    write transaction (BEGIN IMMEDIATE on SQLite) that takes no lock of the log's."""
    async with engine.connect() as connection:
        yield await connection.execution_options(**{_WRITE: True})
