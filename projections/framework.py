"""Projectors fold the log into read tables, recording how far they read in the same transaction.

Built-in projectors run inside every append's transaction (read-your-writes). A projector
that is behind (new, or after a failure) is caught up from its checkpoint in pages; a
rebuild fills fresh tables from the log, with every open row version in memory, and
switches them in only when complete. All of them run each projector's one pure `fold`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import quoted_name

from events.backends import backend_of
from events.database import write_transaction, writing_connection
from events.model import RecordedEvent
from events.registry import EventTypes
from events.store import EventStore
from events.tables import UTCDateTime, events
from projections.compare import TableDiff, compare, table_digest
from projections.from_scratch import _fold_from_scratch, _index
from projections.versions import Rows, Stamp

checkpoint_metadata = MetaData()
checkpoints = Table(
    "projection_checkpoints",
    checkpoint_metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime),
)

SHADOW = "__rebuild"
Progress = Callable[[int, int, float], None]
"""Called with (position reached, position to reach, positions a second)."""
PAGE = 5000  # events a page of the bulk paths
_LOAD_AT_ONCE = 500  # keys one statement of the live path loads
_ENDS, _IDENTITY = ("record_to", "recorded_to"), ("key", "record_from", "slice")


Touch = tuple[str, str, Any]
"""(table, column, value): the open versions of a table a fold may read, by key or by a
column of the projector's `BY`."""
Folded = Mapping[str, Rows]
"""A projector's tables in memory, by table name, as `fold` reads and changes them."""


class Projector(ABC):
    """One read model: its tables, the event types it folds, and how it folds each.

    `fold` is pure: it reads and changes the open row versions in memory (`Rows`). The live
    path loads the versions its few events `touches` and writes back what the fold made; a
    rebuild keeps every open version in memory from the first event to the last. Both run
    this one fold.
    """

    name: ClassVar[str]
    TABLES: ClassVar[tuple[Table, ...]]
    BY: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Columns, per table, by which `fold` closes versions other than by their key."""
    handles: ClassVar[frozenset[type]]
    """The event classes `fold` folds; every other event passes this projector by."""
    handled: ClassVar[frozenset[str]]
    """The type names of `handles`, as the log spells them."""
    folds_in_database: ClassVar[bool] = False
    """Whether `fold_in_database` can fold a rebuild from scratch in the database alone."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "handles" in cls.__dict__:
            cls.handled = frozenset(event.__name__ for event in cls.handles)

    def __init__(self, tables: Mapping[str, Table] | None = None) -> None:
        self.tables = dict(tables or {table.name: table for table in self.TABLES})

    def table(self, name: str) -> Table:
        return self.tables[name]

    def rows(self) -> dict[str, Rows]:
        """This model's tables in memory, empty."""
        return {name: Rows(table, self.BY.get(name, ())) for name, table in self.tables.items()}

    @abstractmethod
    def touches(self, decoded: Any) -> Iterable[Touch]:
        """The open versions folding `decoded` may read or close."""

    @abstractmethod
    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        """Fold one event (`decoded` is its domain object) into this model's rows."""

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """For a rebuild into empty tables: fold the log up to `until` in the database alone
        on `connection` (a writing one, in no transaction: the fold makes its own), giving
        exactly what `fold` gives; False, with nothing written, where this projector cannot
        (the default), and the rebuild folds in Python."""
        return False

    def unhandled(self, decoded: object) -> NoReturn:
        """For `fold`'s last `case _:`: an event in `handles` that no branch folds."""
        raise TypeError(f"the {self.name} projector has no fold for {type(decoded).__name__}")

    def shadowed(self) -> Projector:
        """The same projector writing into fresh tables, for a rebuild."""
        return type(self)({table.name: _shadow(table) for table in self.TABLES})


def _shadow(table: Table) -> Table:
    copy = table.to_metadata(MetaData(), name=table.name + SHADOW)
    for index in copy.indexes:
        index.name = quoted_name(f"{index.name}{SHADOW}", None)
    return copy


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return self.head - self.position


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: the projections, up to which position, how many events it read
    into Python (a fold in the database reads none), the differences found before switching
    (when asked), and whether it switched."""

    names: list[str]
    head: int
    events: int
    diffs: list[TableDiff] | None
    switched: bool


class Projections:
    """Runs a set of projectors against one store."""

    def __init__(self, store: EventStore, projectors: Sequence[Projector]) -> None:
        self.store = store
        self.projectors = {projector.name: projector for projector in projectors}
        self._deferred = False
        store.on_append(self.apply_in_transaction)

    @asynccontextmanager
    async def deferred(self, progress: Progress | None = None) -> AsyncIterator[None]:
        """Write many events with no fold per append, then fold them all: every projection
        rebuilt in one pass in memory when all of them stood at position 0 (an import into
        an empty database, a replay), caught up in pages otherwise. Meanwhile the projections
        fall behind, and appends from elsewhere pass them by until they are caught up. After
        a failure, what was written is folded with no `progress` told (a fold of nothing
        shown as done would read as the writes' success)."""
        await self.ensure_checkpoints()
        self._deferred = True
        failed = True
        try:
            yield
            failed = False
        finally:
            self._deferred = False
            # What was written, even if not all of it.
            await self.up_to_date(None if failed else progress)

    async def up_to_date(self, progress: Progress | None = None) -> int:
        """Bring every projection to the head: rebuilt in memory when none has folded
        anything yet, caught up in pages otherwise. Returns the events folded."""
        positions = await self._checkpoints()
        if not any(positions.get(name, 0) for name in self.projectors):
            names = sorted(self.projectors)
            return (await self.rebuild_many(names, progress)).events
        return await self.catch_up(progress=progress)

    def get(self, name: str) -> Projector:
        try:
            return self.projectors[name]
        except KeyError:
            known = ", ".join(sorted(self.projectors))
            raise KeyError(f"no projection named {name!r}; there are {known}") from None

    async def apply_in_transaction(
        self, connection: AsyncConnection, recorded: Sequence[RecordedEvent]
    ) -> None:
        """Fold freshly appended events into every projector that is caught up."""
        if self._deferred:
            return
        before = recorded[0].position - 1
        rows = await connection.execute(select(checkpoints.c.name, checkpoints.c.position))
        due = [self.projectors[n] for n, p in rows if p == before and n in self.projectors]
        if due:
            await fold_events(connection, self.store.types, due, recorded)
            await _advance(connection, [p.name for p in due], before, recorded[-1])

    async def ensure_checkpoints(self) -> None:
        """Give every projector a checkpoint row; a new one starts at 0 and is caught up."""
        async with write_transaction(self.store.engine) as connection:
            known = set(await connection.scalars(select(checkpoints.c.name)))
            for name in self.projectors.keys() - known:
                await connection.execute(insert(checkpoints).values(name=name, position=0))

    async def status(self) -> list[Status]:
        head = (await self.store.head()).position
        positions = await self._checkpoints()
        return [Status(name, positions.get(name, 0), head) for name in sorted(self.projectors)]

    async def _checkpoints(self) -> dict[str, int]:
        async with self.store.engine.connect() as connection:
            rows = await connection.execute(select(checkpoints.c.name, checkpoints.c.position))
            return {name: position for name, position in rows}

    async def catch_up(self, page: int = PAGE, progress: Progress | None = None) -> int:
        """Bring every projector that is behind up to the head, a page at a time, each page
        folded and its checkpoint advanced in one transaction; returns events folded."""
        await self.ensure_checkpoints()
        folded = 0
        while True:
            # Under the write lock, so no append can slip between the read and the checkpoint.
            async with write_transaction(self.store.engine) as connection:
                query = select(checkpoints.c.name, checkpoints.c.position)
                positions = {name: at for name, at in await connection.execute(query)}
                behind = {n: positions.get(n, 0) for n in self.projectors}
                after = min(behind.values(), default=0)
                head = await _head_position(connection)
                if after >= head:
                    return folded
                due = [self.projectors[n] for n, p in behind.items() if p == after]
                batch = await self.store.read_all(after=after, limit=page)
                await fold_events(connection, self.store.types, due, batch)
                await _advance(connection, [p.name for p in due], after, batch[-1])
            folded += len(batch)
            if progress is not None:
                progress(batch[-1].position, head, 0.0)

    async def rebuild(self, name: str, progress: Progress | None = None, page: int = PAGE) -> int:
        """Refold one projector from the log into fresh tables; switch only when complete."""
        return (await self.rebuild_many([name], progress, page)).events

    async def rebuild_many(
        self,
        names: Sequence[str],
        progress: Progress | None = None,
        page: int = PAGE,
        *,
        diff: bool = False,
        dry_run: bool = False,
        in_database: bool = True,
    ) -> Rebuilt:
        """Refold projectors from the log into fresh tables in one pass, and switch them in
        together, atomically, when complete (blue/green).

        Every open row version is kept in memory while the log is read in pages; each page
        writes the versions it finished in bulk, and the versions still open at the end are
        written last, before the indexes are made. The events appended meanwhile are folded
        under the write lock by the live path, then (with `diff`) the fresh tables are
        compared with the live ones; `dry_run` stops there and drops the fresh tables.
        With `in_database`, projectors that can fold in the database alone do so
        (`Projector.fold_in_database`), and the log is read only for the others.
        """
        live = [self.get(name) for name in names]
        fresh = [projector.shadowed() for projector in live]
        await self._create_fresh(fresh)
        switched = False
        try:
            start = (await self.store.head()).position
            indexed: set[str] = set()
            read = await _fold_from_scratch(
                self.store, fresh, start, page, progress, in_database=in_database, indexed=indexed
            )
            if backend_of(self.store.engine).renames_indexes:  # else the switch makes them
                async with writing_connection(self.store.engine) as connection:
                    for projector in fresh:
                        if projector.name not in indexed:
                            await _index(connection, projector)
            # Under the write lock, with the connection's own settings: on SQLite the switch
            # makes the indexes, and a page cache as large as the fill's, beside the fill's
            # own and the sorter's, put 1,000,000 events at 931 MiB (bench/README.md).
            async with write_transaction(self.store.engine) as connection:
                rest = await self.store.read_all(after=start, limit=10**9)
                await fold_events(connection, self.store.types, fresh, rest)
                head = rest[-1].position if rest else start
                diffs = None
                if diff or dry_run:
                    diffs = [
                        await compare(connection, table, projector.tables[table.name])
                        for old, projector in zip(live, fresh, strict=True)
                        for table in old.TABLES
                    ]
                if not dry_run:
                    for old, projector in zip(live, fresh, strict=True):
                        await _switch(connection, old, projector)
                    await connection.execute(
                        update(checkpoints)
                        .where(checkpoints.c.name.in_(list(names)))
                        .values(position=head)
                    )
            switched = not dry_run
        finally:
            if dry_run:
                await self._drop(fresh)
            elif not switched:  # refused, failed or interrupted: the live tables stand
                with suppress(Exception):  # (a database gone: the next rebuild drops them)
                    await self._drop(fresh)
        return Rebuilt(list(names), head, read + len(rest), diffs, not dry_run)

    async def _create_fresh(self, fresh: Sequence[Projector]) -> None:
        """Empty fresh tables, without their indexes (made once the rows are in)."""
        tables = [table for projector in fresh for table in projector.tables.values()]
        async with write_transaction(self.store.engine, lock=False) as connection:
            await connection.run_sync(_recreate, tables)

    async def _drop(self, fresh: Sequence[Projector]) -> None:
        tables = [table for projector in fresh for table in projector.tables.values()]
        async with write_transaction(self.store.engine, lock=False) as connection:
            await connection.run_sync(_drop, tables)

    async def digest(self, name: str) -> str:
        """A hash of the read model's whole content, the same on every engine."""
        return await table_digest(self.store, self.get(name).TABLES)

    async def digests(self, progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
        """Every read model's digest; `progress` is told (rows read, rows in all)."""
        if progress is None:
            return {name: await self.digest(name) for name in sorted(self.projectors)}
        names = sorted(self.projectors)
        tables = [table for name in names for table in self.get(name).TABLES]
        async with self.store.engine.connect() as connection:
            total = sum([await _rows_in(connection, table) for table in tables])
        done = 0

        def read(rows: int) -> None:
            nonlocal done
            done += rows
            progress(done, max(total, done))

        found = {
            name: await table_digest(self.store, self.get(name).TABLES, read) for name in names
        }
        progress(done, done)
        return found


async def _rows_in(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


def _recreate(connection: Connection, tables: list[Table]) -> None:
    _drop(connection, tables)
    for table in tables:
        connection.execute(CreateTable(table))


def _drop(connection: Connection, tables: list[Table]) -> None:
    for table in tables:
        table.drop(connection, checkfirst=True)


async def _head_position(connection: AsyncConnection) -> int:
    position: int | None = await connection.scalar(select(func.max(events.c.position)))
    return position or 0


async def fold_events(
    connection: AsyncConnection,
    types: EventTypes,
    projectors: Sequence[Projector],
    recorded: Sequence[RecordedEvent],
) -> None:
    """The live path (an append's events, a page caught up): per projector, load the open
    versions the events touch, fold the events, write what the fold made, in the caller's
    transaction."""
    decoded: dict[int, Any] = {}
    for projector in projectors:
        mine = []
        for event in recorded:
            if event.type in projector.handled:
                value = decoded.get(event.position)
                if value is None:
                    value = decoded[event.position] = types.decode(event)
                mine.append((event, value))
        if not mine:
            continue
        rows = projector.rows()
        touched = [touch for _, value in mine for touch in projector.touches(value)]
        await _load(connection, projector, rows, touched)
        for event, value in mine:
            projector.fold(rows, event, value)
        await write_folded(connection, rows.values())


async def _load(
    connection: AsyncConnection, projector: Projector, rows: Folded, touched: Iterable[Touch]
) -> None:
    wanted: dict[tuple[str, str], set[Any]] = {}
    for name, column, value in touched:
        wanted.setdefault((name, column), set()).add(value)
    for (name, column), values in wanted.items():
        table = projector.tables[name]
        ordered = sorted(values)
        for first in range(0, len(ordered), _LOAD_AT_ONCE):
            chunk = ordered[first : first + _LOAD_AT_ONCE]
            query = select(table).where(table.c[column].in_(chunk), table.c.record_to.is_(None))
            rows[name].load(tuple(row) for row in await connection.execute(query))


async def write_folded(connection: AsyncConnection, folded: Iterable[Rows]) -> None:
    """Write what a live fold made: the ends of versions the tables held, and every version
    the fold opened (closed since or still open), each table in bulk."""
    backend = backend_of(connection)
    for rows in folded:
        if rows.ended:
            await backend.update_rows(connection, rows.table, _ENDS, _IDENTITY, rows.ended)
        await backend.write_rows(connection, rows.table, rows.written())


async def _advance(
    connection: AsyncConnection, names: list[str], before: int, last: RecordedEvent
) -> None:
    await connection.execute(
        update(checkpoints)
        .where(checkpoints.c.name.in_(names), checkpoints.c.position == before)
        .values(position=last.position, updated_at=last.recorded_at)
    )


async def _switch(connection: AsyncConnection, live: Projector, fresh: Projector) -> None:
    """Drop the live tables and give the fresh ones their names, in the caller's transaction."""
    backend = backend_of(connection)
    for table in live.TABLES:
        await backend.replace_table(connection, table, fresh.tables[table.name], SHADOW)
