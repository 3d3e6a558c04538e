"""A rebuild's fold from scratch: the log folded into empty tables, in the database by the
projectors that can and in Python, page by page, by the others; then the tables indexed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import operator
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Table, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.backends import backend_of
from events.database import writing_connection
from events.store import EventStore
from events.tables import events
from projections.versions import Version

if TYPE_CHECKING:
    from projections.framework import Folded, Progress, Projector

log = logging.getLogger(__name__)

_WRITE_AT_ONCE = 50_000  # rows one bulk write takes
_YIELD_EVERY = 500  # events folded between two turns of the event loop
# Projections a rebuild folds in the database at once, each on a connection of its own: the
# database runs each statement on one core (SQLite in the thread of its connection).
_FOLDING_AT_ONCE = 2
# (key, record_from, slice): rows written in primary key order go into its index in order.
_IN_KEY_ORDER = operator.itemgetter(0, 7, 8)


class Logged(NamedTuple):
    """What a fold takes from an event the bulk paths read (a RecordedEvent gives the same)."""

    position: int
    recorded_at: datetime
    type: str


async def _fold_from_scratch(
    store: EventStore,
    projectors: Sequence[Projector],
    until: int,
    page: int,
    progress: Progress | None,
    *,
    in_database: bool = True,
    indexed: set[str] | None = None,
) -> int:
    """Fold the log up to `until` into empty tables: the projectors that fold in the
    database alone (with `in_database`) there, while the others fold in Python beside them;
    those that found the log not as their statements expect, in Python after. Returns the
    events read and folded in Python. Where the engine renames indexes (PostgreSQL), each
    projector folded in the database is indexed on its connection as soon as it is folded,
    and its name added to `indexed`."""
    started = time.monotonic()
    if progress is not None:  # the fold starts (a fold in the database says no more till its end)
        progress(0, until, 0.0)
    by_sql = [p for p in projectors if in_database and p.folds_in_database]
    in_python = [p for p in projectors if p not in by_sql]
    folding = (
        asyncio.ensure_future(_fold_in_database(store, by_sql, until, indexed)) if by_sql else None
    )
    try:
        folded = await _fold_in_python(store, in_python, until, page, progress, folding)
        left = await folding if folding is not None else []
    finally:
        if folding is not None and not folding.done():  # a failure in the Python fold
            folding.cancel()
            with contextlib.suppress(BaseException):
                await folding
    if left:
        folded += await _fold_in_python(store, left, until, page, progress, None)
    if progress is not None:
        progress(until, until, until / max(time.monotonic() - started, 1e-9))
    return folded


async def _fold_in_python(
    store: EventStore,
    projectors: Sequence[Projector],
    until: int,
    page: int,
    progress: Progress | None,
    beside: asyncio.Future[Any] | None,
) -> int:
    """Fold the log up to `until` into empty tables in Python, every open version kept in
    memory: each page (one transaction) writes the versions it finished; the versions open
    at the end are written last. While `beside` (a fold in the database) runs, the pages
    wait in memory: on SQLite there is one writer at a time. Returns the events folded."""
    if not projectors:
        return 0
    working = [(projector, projector.rows()) for projector in projectors]
    interested: dict[str, list[tuple[Projector, Folded]]] = {}
    for projector, tables in working:
        for name in projector.handled:
            interested.setdefault(name, []).append((projector, tables))
    every = [table for _, tables in working for table in tables.values()]
    wanted = None if set(store.types.names()) <= interested.keys() else sorted(interested)
    decode = store.types.decode_text
    backend = backend_of(store.engine)
    started, after, folded = time.monotonic(), 0, 0
    writing: asyncio.Future[None] | None = None
    waiting: list[Sequence[tuple[Table, list[Version]]]] = []
    async with writing_connection(store.engine) as writer, backend.building(writer):
        try:
            while after < until:
                async with store.engine.connect() as reading:
                    batch = await backend.read_log(reading, after, until, page, wanted)
                if not batch:
                    break
                for number, (position, kind, version, data, recorded_at) in enumerate(batch):
                    if number % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # the previous page's write moves on meanwhile
                    targets = interested.get(kind)
                    if targets is None:
                        continue
                    value = decode(kind, version, data)
                    stamp = Logged(position, recorded_at, kind)
                    for projector, into in targets:
                        projector.fold(into, stamp, value)
                waiting.append([(table.table, table.take_finished()) for table in every])
                if beside is None or beside.done():
                    if writing is not None:
                        await writing
                    # Written on another connection while the next page is read and folded.
                    writing = asyncio.ensure_future(_write_pages(writer, waiting))
                    waiting = []
                # The open versions live to the end: the cyclic collector need not walk them
                # again and again (they hold no cycles; what dies is freed as ever).
                gc.freeze()
                after, folded = batch[-1].position, folded + len(batch)
                if progress is not None:
                    progress(after, until, after / max(time.monotonic() - started, 1e-9))
            if beside is not None:
                await beside
            if writing is not None:
                await writing
            writing = None
            await _write_pages(writer, waiting)
            opened = [
                (table.table, sorted(table.take_open(), key=_IN_KEY_ORDER)) for table in every
            ]
            for first in range(
                0, max((len(rows) for _, rows in opened), default=0), _WRITE_AT_ONCE
            ):
                chunk = [(table, rows[first : first + _WRITE_AT_ONCE]) for table, rows in opened]
                await _write_page(writer, chunk)
        finally:
            gc.unfreeze()
            if writing is not None:  # a failure while a page was being written
                with contextlib.suppress(Exception):
                    await writing
    return folded


async def _fold_in_database(
    store: EventStore,
    projectors: Sequence[Projector],
    until: int,
    indexed: set[str] | None = None,
) -> list[Projector]:
    """Let each projector fold the log in the database alone (in transactions of its own),
    `_FOLDING_AT_ONCE` of them at a time on connections of their own, those with the most
    events first; returns those that could not. With `indexed`, where the engine renames
    indexes, each folded projector's tables are indexed next on the same connection (while
    the other folds go on) and its name added to `indexed`."""
    index_each = indexed is not None and backend_of(store.engine).renames_indexes
    queue = await _most_events_first(store, projectors, until)
    left: set[str] = set()

    async def folder() -> None:
        async with writing_connection(store.engine) as writer, backend_of(writer).building(writer):
            while queue:
                projector = queue.pop(0)
                try:
                    folded = await projector.fold_in_database(writer, store.types, until)
                except DBAPIError as error:
                    # A log its statements cannot take (a date or text the engine refuses):
                    # the Python fold, the reference, takes it instead.
                    log.warning("the %s projection folds in Python: %s", projector.name, error)
                    folded = False
                if not folded:
                    left.add(projector.name)
                elif index_each:
                    await _index(writer, projector)
                    assert indexed is not None
                    indexed.add(projector.name)

    failure: Exception | None = None
    try:
        async with asyncio.TaskGroup() as folders:
            for _ in range(min(_FOLDING_AT_ONCE, len(queue))):
                folders.create_task(folder())
    except ExceptionGroup as failed:  # the other fold was cancelled: its failure, as raised
        if len(failed.exceptions) != 1:
            raise
        failure = failed.exceptions[0]
    if failure is not None:  # raised here, its own cause kept, not in the group's context
        raise failure
    return [projector for projector in projectors if projector.name in left]


async def _index(connection: AsyncConnection, projector: Projector) -> None:
    """Make the indexes of a fresh projector's tables, in one transaction of their own."""
    async with connection.begin(), backend_of(connection).building(connection):
        for table in projector.tables.values():
            for index in table.indexes:
                await connection.run_sync(index.create)


async def _most_events_first(
    store: EventStore, projectors: Sequence[Projector], until: int
) -> list[Projector]:
    """`projectors` by the number of events up to `until` each folds, most first (the
    longest fold starts first, so the others share the second connection meanwhile)."""
    async with store.engine.connect() as connection:
        counted = await connection.execute(
            select(events.c.type, func.count())
            .where(events.c.position <= until)
            .group_by(events.c.type)
        )
        by_type: dict[str, int] = {kind: count for kind, count in counted}
    return sorted(projectors, key=lambda p: -sum(by_type.get(name, 0) for name in p.handled))


async def _write_pages(
    connection: AsyncConnection, pages: Sequence[Sequence[tuple[Table, list[Version]]]]
) -> None:
    for rows in pages:
        await _write_page(connection, rows)


async def _write_page(
    connection: AsyncConnection, rows: Sequence[tuple[Table, list[Version]]]
) -> None:
    """Row versions of several tables, each table in bulk, in one transaction."""
    backend = backend_of(connection)
    async with connection.begin():
        for table, versions in rows:
            await backend.write_rows(connection, table, versions)
