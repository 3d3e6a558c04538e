"""SQLite's way: the write lock BEGIN IMMEDIATE holds, bulk rows through aiosqlite, and
the spelling of values sqlite3 is handed."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, func, insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.backends.base import (
    _EVENT_ROW,
    _HEAD_ROW,
    _SUBTREES_ROW,
    Backend,
    HeadRow,
    Listener,
    LogRow,
    Pairs,
    TreeRows,
    Trigger,
    _driver_errors,
    _head_row,
)
from events.rows import sqlite_id, sqlite_moment
from events.tables import events

_BUILD_CACHE_KIB = 64 * 1024  # SQLite's page cache while fresh tables are filled

_HEAD_AND_VERSION = (
    select(
        events.c.position,
        events.c.hash,
        events.c.recorded_at,
        select(func.max(events.c.stream_version))
        .where(events.c.stream_id == bindparam("stream_id"))
        .scalar_subquery()
        .label("version"),
    )
    .order_by(events.c.position.desc())
    .limit(1)
)
# CROSS JOIN keeps the keys and spans the outer loop: each a search of the primary key.
_SQLITE_TREE = (
    f"SELECT {_SUBTREES_ROW}, e.position, e.subtrees, NULL"
    " FROM json_each(?) AS k CROSS JOIN events AS e ON e.position = k.value"
    f" UNION ALL SELECT {_EVENT_ROW}, e.position, NULL, e.hash"
    " FROM json_each(?) AS s CROSS JOIN events AS e"
    " ON e.position > json_extract(s.value, '$[0]')"
    " AND e.position <= json_extract(s.value, '$[1]')"
    f" UNION ALL SELECT {_HEAD_ROW}, max(position), NULL, NULL FROM events"
)
_SQLITE_TRIGGERS = text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")


class SQLite(Backend):
    """SQLite: BEGIN IMMEDIATE (see events.database) already holds the write lock."""

    name = "sqlite"
    renames_indexes = False

    async def interrupt(self, connection: AsyncConnection) -> None:
        # The statement runs in aiosqlite's thread: cancelling the task awaiting it does not
        # stop it, and closing the connection would wait for it to end.
        # Closed meanwhile (the statement ended as its deadline came): nothing to stop.
        with contextlib.suppress(ValueError, ResourceClosedError):
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is not None:
                await driver.interrupt()

    async def lock_log(self, connection: AsyncConnection) -> None:
        return None

    async def lock_and_read_head(
        self, connection: AsyncConnection, stream_id: str
    ) -> HeadRow | None:
        return await _head_row(connection, _HEAD_AND_VERSION, {"stream_id": stream_id})

    async def insert_many(
        self, connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        if rows:
            await connection.execute(insert(table), list(rows))

    async def write_rows(
        self, connection: AsyncConnection, table: Table, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        names = ", ".join(f'"{column.name}"' for column in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        with _driver_errors(sql, sqlite3.Error):
            await (await _sqlite_driver(connection)).executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def building(self, connection: AsyncConnection) -> AsyncIterator[None]:
        # A fresh table's primary key takes its rows in key order, not in the order they
        # come: with SQLite's default cache (2 MiB) each insert reads its index page from the
        # file again once the index outgrows it. (synchronous stays NORMAL: in WAL mode a
        # commit does not wait for the disk anyway.)
        # The temporary tables of a fold in the database (projections/in_database.py) have a
        # page cache of their own.
        driver = await _sqlite_driver(connection)
        before = {}
        for schema in ("main", "temp"):
            async with driver.execute(f"PRAGMA {schema}.cache_size") as cursor:
                (before[schema],) = await cursor.fetchone()
            await driver.execute(f"PRAGMA {schema}.cache_size = {-_BUILD_CACHE_KIB}")
        try:
            yield
        finally:
            # A statement cancelled in the block (the other fold of a rebuild failed, Ctrl-C)
            # closes the connection: it has no cache left to restore, and the pool drops it.
            with contextlib.suppress(ValueError, sqlite3.ProgrammingError):
                for schema, size in before.items():
                    await driver.execute(f"PRAGMA {schema}.cache_size = {int(size)}")

    async def update_rows(
        self,
        connection: AsyncConnection,
        table: Table,
        set_columns: Sequence[str],
        where_columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        if not rows:
            return
        changes = ", ".join(f'"{name}" = ?' for name in set_columns)
        which = " AND ".join(f'"{name}" = ?' for name in where_columns)
        sql = f'UPDATE "{table.name}" SET {changes} WHERE {which}'
        with _driver_errors(sql, sqlite3.Error):
            await (await _sqlite_driver(connection)).executemany(sql, rows)

    async def read_log(
        self,
        connection: AsyncConnection,
        after: int,
        until: int,
        limit: int,
        types: Sequence[str] | None,
    ) -> list[LogRow]:
        only = f" AND type IN ({', '.join('?' for _ in types)})" if types else ""
        sql = (
            "SELECT position, type, schema_version, data, recorded_at FROM events"
            f" WHERE position > ? AND position <= ?{only} ORDER BY position LIMIT ?"
        )
        cursor = await (await _sqlite_driver(connection)).execute(
            sql, (after, until, *(types or ()), limit)
        )
        try:
            found = await cursor.fetchall()
        finally:
            await cursor.close()
        page, text, moment = [], None, None
        for position, kind, version, data, at in found:
            if at != text:  # an append's events share one record time
                text, moment = at, datetime.fromisoformat(at).replace(tzinfo=UTC)
            page.append(LogRow(position, kind, version, data, moment))  # type: ignore[arg-type]
        return page

    async def tree_rows(
        self, connection: AsyncConnection, holders: Sequence[int], spans: Pairs
    ) -> TreeRows:
        # Through the driver: one trip to its thread, where SQLAlchemy makes four (and its
        # BEGIN as many again); one statement reads a consistent snapshot on its own.
        driver = await _sqlite_driver(connection)
        with _driver_errors(_SQLITE_TREE, sqlite3.Error):
            rows = await driver.execute_fetchall(
                _SQLITE_TREE, (json.dumps(list(holders)), json.dumps(spans))
            )
        return TreeRows.of(rows)

    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        return None  # one process per SQLite file serves subscribers; it wakes them itself

    async def listen(
        self, url: URL, channel: str, heard: Callable[[str | None], None]
    ) -> Listener | None:
        return None

    async def triggers(self, connection: AsyncConnection, tables: Sequence[str]) -> list[Trigger]:
        found = []
        for name, table, sql in (await connection.execute(_SQLITE_TRIGGERS)).all():
            if table not in tables:
                continue
            upper = str(sql).upper()
            aborts = "RAISE(ABORT" in upper
            refuses = {a for a in ("UPDATE", "DELETE") if aborts and f"BEFORE {a}" in upper}
            found.append(Trigger(name, table, frozenset(refuses)))
        return found

    def guards(self, table: str) -> dict[str, frozenset[str]]:
        return {f"{table}_no_{a.lower()}": frozenset({a}) for a in ("UPDATE", "DELETE")}

    def guard_statements(self, table: str) -> list[str]:
        return [
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, 'the event log is append-only: {action} on {table}"
            " refused'); END"
            for action in ("UPDATE", "DELETE")
        ]

    async def replace_table(
        self, connection: AsyncConnection, live: Table, fresh: Table, suffix: str
    ) -> None:
        await connection.execute(text(f'DROP TABLE "{live.name}"'))
        await connection.execute(text(f'ALTER TABLE "{fresh.name}" RENAME TO "{live.name}"'))
        for index in live.indexes:  # SQLite cannot rename an index: make it anew
            await connection.execute(text(f'DROP INDEX IF EXISTS "{index.name}{suffix}"'))
            await connection.run_sync(index.create)


async def _sqlite_driver(connection: AsyncConnection) -> Any:
    """The aiosqlite connection under `connection`, in the same transaction."""
    return (await connection.get_raw_connection()).driver_connection


# Dates, times and UUIDs handed to sqlite3 as they are (the bulk paths do) are spelled as
# SQLAlchemy spells them: dates as ISO text, times as naive UTC text with microseconds, so
# rows written in bulk read back and sort as any other. (SQLAlchemy converts its own values
# before sqlite3 sees them.) A log repeats its times: one spelling serves each.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, functools.lru_cache(maxsize=1 << 12)(sqlite_moment))
sqlite3.register_adapter(UUID, sqlite_id)
