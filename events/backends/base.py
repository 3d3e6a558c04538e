"""The interface each engine implements, the rows it hands back, and what both engines'
ways share."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Executable, Table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class HeadRow:
    """The log's last position, hash and record time, and one stream's last version."""

    position: int
    hash: str
    recorded_at: Any
    version: int | None


Pairs = Sequence[tuple[int, int]]


class TreeRows(NamedTuple):
    """What one read of the Merkle tree gives (Backend.tree_rows)."""

    head: int
    subtrees: list[tuple[int, bytes | None]]  # position, the event's subtrees column
    hashes: list[tuple[int, str]]  # position, chain hash (hex)

    @classmethod
    def of(cls, rows: Iterable[Any]) -> TreeRows:
        """From the statement's rows: what the row is (an event's subtrees, an event's
        chain hash, the head), a position, then the subtrees column or the chain hash."""
        head, subtrees, hashes = 0, [], []
        for kind, number, held, chain in rows:
            if kind == _SUBTREES_ROW:
                subtrees.append((number, None if held is None else bytes(held)))
            elif kind == _EVENT_ROW:
                hashes.append((number, chain))
            else:
                head = number or 0
        return cls(head, subtrees, hashes)


_SUBTREES_ROW, _EVENT_ROW, _HEAD_ROW = 0, -1, -2


class LogRow(NamedTuple):
    position: int
    type: str
    schema_version: int
    data: str
    recorded_at: datetime


@dataclass(frozen=True)
class Trigger:
    """A trigger as the database holds it: on which table, and whether it still refuses
    the edits it was made to refuse ("UPDATE", "DELETE", "TRUNCATE")."""

    name: str
    table: str
    refuses: frozenset[str]


class Listener(Protocol):
    """What listens for other processes' appends: whether it is listening now, how often
    it had to connect again, and how to stop it."""

    @property
    def connected(self) -> bool: ...
    @property
    def reconnections(self) -> int: ...
    async def close(self) -> None: ...


class Backend(ABC):
    """One engine's way of doing what the others do differently."""

    name: str
    renames_indexes: bool
    """Whether `replace_table` keeps `fresh`'s indexes (renamed), rather than making them."""

    @abstractmethod
    async def lock_log(self, connection: AsyncConnection) -> None:
        """Hold the log's write lock until the transaction ends (if BEGIN did not)."""

    @abstractmethod
    async def lock_and_read_head(
        self, connection: AsyncConnection, stream_id: str
    ) -> HeadRow | None:
        """Take the write lock, then read the head and `stream_id`'s last version (None on
        an empty log)."""

    @abstractmethod
    async def insert_many(
        self, connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Write many rows of `table` in as few statements as the engine allows."""

    @abstractmethod
    async def tree_rows(
        self, connection: AsyncConnection, holders: Sequence[int], spans: Pairs
    ) -> TreeRows:
        """The `subtrees` column of the events at these positions, the chain hashes of the
        events in these spans of leaves ([lo, hi): positions lo + 1 to hi), and the log's
        head position, in one statement of fixed text (so the engine plans it once)."""

    @abstractmethod
    async def write_rows(
        self, connection: AsyncConnection, table: Table, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Write many rows of `table`, each a tuple of Python values in the table's column
        order, by the engine's fastest bulk path, in the caller's transaction."""

    @contextlib.asynccontextmanager
    async def building(self, connection: AsyncConnection) -> AsyncIterator[None]:
        """Settings for filling or indexing fresh tables in bulk on `connection` (a rebuild's
        shadow tables, which nothing reads before the switch), for as long as the block
        runs; the connection's own settings are restored after."""
        yield

    @contextlib.asynccontextmanager
    async def unindexed(self, connection: AsyncConnection, table: Table) -> AsyncIterator[None]:
        """`table` (empty) with only its primary key while the block fills it; its other
        indexes dropped before and made again after, all in the caller's transaction and
        with the `building` settings. Rows come in faster with one index to keep up, and an
        index is made from them at once faster than it grows row by row. A duplicate that
        a unique index refuses is raised (IntegrityError) as the index is made; whatever
        the block raises leaves the indexes dropped until the caller's transaction rolls
        back (DDL is transactional on both engines). The indexes are `table.indexes`, with
        the names and definitions the migrations gave them, and the unique constraints'
        where the engine can drop them."""
        remake = await self._drop_unique_constraints(connection, table)
        for index in table.indexes:
            await connection.run_sync(index.drop)
        async with self.building(connection):
            yield
            for statement in remake:
                await connection.exec_driver_sql(statement)
            for index in table.indexes:
                await connection.run_sync(index.create)

    async def _drop_unique_constraints(
        self, connection: AsyncConnection, table: Table
    ) -> list[str]:
        """Drop `table`'s unique constraints where the engine can; returns the statements
        that make them again."""
        return []

    @abstractmethod
    async def update_rows(
        self,
        connection: AsyncConnection,
        table: Table,
        set_columns: Sequence[str],
        where_columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """For each row (the new values of `set_columns`, then the values of `where_columns`
        that pick the row out), update `table`, in as few statements as the engine allows."""

    @abstractmethod
    async def read_log(
        self,
        connection: AsyncConnection,
        after: int,
        until: int,
        limit: int,
        types: Sequence[str] | None,
    ) -> list[LogRow]:
        """A page of the log by keyset: position, type, schema version, payload text and
        record time of up to `limit` events after `after` up to `until`, of `types` when
        given. Read through the driver, for the bulk paths that read every event."""

    @abstractmethod
    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        """Tell other processes, once this transaction commits (where any can hear)."""

    @abstractmethod
    async def listen(
        self, url: URL, channel: str, heard: Callable[[str | None], None]
    ) -> Listener | None:
        """Call `heard` with the payload when a process notifies `channel`, and with None
        whenever the listening connection is (re)made; None where no process can notify."""

    @abstractmethod
    async def triggers(self, connection: AsyncConnection, tables: Sequence[str]) -> list[Trigger]:
        """The triggers on `tables` and what each (still) refuses."""

    @abstractmethod
    def guards(self, table: str) -> dict[str, frozenset[str]]:
        """The triggers the migrations make to keep `table` append-only, and what each must
        refuse."""

    @abstractmethod
    def guard_statements(self, table: str) -> list[str]:
        """The DDL that makes the triggers `guards(table)` names (for a migration)."""

    @abstractmethod
    async def replace_table(
        self, connection: AsyncConnection, live: Table, fresh: Table, suffix: str
    ) -> None:
        """Drop `live` and give `fresh` its name; `fresh`'s indexes, `live`'s names with
        `suffix` added, get `live`'s names back (or are made, if `fresh` has none yet and
        the engine does not rename them). In the caller's transaction."""

    async def interrupt(self, connection: AsyncConnection) -> None:
        """Stop the statement `connection` is running, from outside the task awaiting it.
        Nothing to do on PostgreSQL: asyncpg cancels the statement of a cancelled task."""
        return None


@contextlib.contextmanager
def _driver_errors(statement: str, *kinds: type[Exception]) -> Iterator[None]:
    """What the driver refuses, raised as SQLAlchemy raises it (the bulk paths talk to the
    driver directly), so callers catch one kind of error."""
    try:
        yield
    except kinds as error:
        raise DBAPIError(statement, None, error) from error


async def _head_row(
    connection: AsyncConnection, query: Executable, values: dict[str, Any]
) -> HeadRow | None:
    row = (await connection.execute(query, values)).first()
    return None if row is None else HeadRow(row.position, row.hash, row.recorded_at, row.version)
