"""Projectors fold the log into read tables, recording how far they read in the same transaction.

Built-in projectors run inside every append's transaction (read-your-writes). A projector
that is behind (new, or after a failure) is caught up from its checkpoint in pages; a
rebuild fills fresh tables from the log and switches them in only when complete.
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, NoReturn

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import quoted_name

from events.backends import backend_of
from events.chain import canonical_json
from events.database import write_transaction
from events.model import RecordedEvent
from events.store import EventStore
from events.tables import UTCDateTime

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


class Projector(ABC):
    """One read model: its tables, the event types it folds, and how it folds each."""

    name: ClassVar[str]
    TABLES: ClassVar[tuple[Table, ...]]
    handles: ClassVar[frozenset[type]]
    """The event classes `apply` folds; every other event passes this projector by."""
    handled: ClassVar[frozenset[str]]
    """The type names of `handles`, as the log spells them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "handles" in cls.__dict__:
            cls.handled = frozenset(event.__name__ for event in cls.handles)

    def __init__(self, tables: Mapping[str, Table] | None = None) -> None:
        self.tables = dict(tables or {table.name: table for table in self.TABLES})

    def table(self, name: str) -> Table:
        return self.tables[name]

    @abstractmethod
    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        """Fold one event (`decoded` is its domain object) into this model's tables."""

    def unhandled(self, decoded: object) -> NoReturn:
        """For `apply`'s last `case _:`: an event in `handles` that no branch folds."""
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


class Projections:
    """Runs a set of projectors against one store."""

    def __init__(self, store: EventStore, projectors: Sequence[Projector]) -> None:
        self.store = store
        self.projectors = {projector.name: projector for projector in projectors}
        store.on_append(self.apply_in_transaction)

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
        before = recorded[0].position - 1
        rows = await connection.execute(select(checkpoints.c.name, checkpoints.c.position))
        due = [self.projectors[n] for n, p in rows if p == before and n in self.projectors]
        if due:
            await _fold(connection, self.store, due, recorded)
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

    async def catch_up(self, page: int = 1000) -> int:
        """Bring every projector that is behind up to the head; returns events folded."""
        await self.ensure_checkpoints()
        folded = 0
        for name in sorted(self.projectors):
            folded += await self._catch_up_one(self.projectors[name], page)
        return folded

    async def _catch_up_one(self, projector: Projector, page: int) -> int:
        folded = 0
        while True:
            # Under the write lock, so no append can slip between the read and the checkpoint.
            async with write_transaction(self.store.engine) as connection:
                position = await connection.scalar(
                    select(checkpoints.c.position).where(checkpoints.c.name == projector.name)
                )
                batch = await self.store.read_all(after=position or 0, limit=page)
                if not batch:
                    return folded
                await _fold(connection, self.store, [projector], batch)
                await _advance(connection, [projector.name], position or 0, batch[-1])
            folded += len(batch)

    async def rebuild(self, name: str, progress: Progress | None = None, page: int = 1000) -> int:
        """Refold one projector from the log into fresh tables; switch only when complete."""
        live = self.get(name)
        fresh = live.shadowed()
        await self._create_fresh(fresh)
        start = (await self.store.head()).position
        started, done = time.monotonic(), 0
        after = 0
        while after < start:
            batch = await self.store.read_all(after=after, until=start, limit=page)
            if not batch:
                break
            async with self.store.engine.begin() as connection:
                await _fold(connection, self.store, [fresh], batch)
            after, done = batch[-1].position, done + len(batch)
            if progress is not None:
                progress(done, start, done / max(time.monotonic() - started, 1e-9))
        async with write_transaction(self.store.engine) as connection:
            rest = await self.store.read_all(after=after, limit=10**9)
            if rest:
                await _fold(connection, self.store, [fresh], rest)
            head = rest[-1].position if rest else after
            await _switch(connection, live, fresh)
            await connection.execute(
                update(checkpoints).where(checkpoints.c.name == name).values(position=head)
            )
        return done + len(rest)

    async def _create_fresh(self, fresh: Projector) -> None:
        async with self.store.engine.begin() as connection:
            tables = list(fresh.tables.values())
            await connection.run_sync(_recreate, tables)

    async def digest(self, name: str) -> str:
        """A hash of the read model's whole content, the same on every engine."""
        return await table_digest(self.store, self.get(name).TABLES)

    async def digests(self) -> dict[str, str]:
        return {name: await self.digest(name) for name in sorted(self.projectors)}


def _recreate(connection: Connection, tables: list[Table]) -> None:
    for table in tables:
        table.drop(connection, checkfirst=True)
        table.create(connection)


async def _fold(
    connection: AsyncConnection,
    store: EventStore,
    projectors: Sequence[Projector],
    recorded: Sequence[RecordedEvent],
) -> None:
    for event in recorded:
        interested = [p for p in projectors if event.type in p.handled]
        if interested:
            decoded = store.types.decode(event)
            for projector in interested:
                await projector.apply(connection, event, decoded)


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


async def table_digest(store: EventStore, tables: Sequence[Table]) -> str:
    """sha256 over every row of `tables`, in key order, values in one canonical spelling."""
    digest = hashlib.sha256()
    async with store.engine.connect() as connection:
        for table in tables:
            digest.update(f"table {table.name}\n".encode())
            order = [column for column in table.primary_key.columns]
            result = await connection.stream(select(table).order_by(*order))
            async for row in result:
                values = [_plain(value) for value in row]
                digest.update(canonical_json(values).encode() + b"\n")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
