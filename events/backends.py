"""What differs between the two engines, behind one small interface.

Everything else in Coop speaks SQLAlchemy Core and runs the same on both. Here alone:
how an append takes the log's write lock and reads the head, how many rows are written
at once, how appends are announced to other processes, which triggers guard a table,
and how a rebuilt table takes the place of the live one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from sqlalchemy import (
    Executable,
    Integer,
    Table,
    UniqueConstraint,
    bindparam,
    column,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String, TypeEngine

from events.tables import events

_BUILD_CACHE_KIB = 64 * 1024  # SQLite's page cache while fresh tables are filled
_BUILD_MEMORY = "256MB"  # PostgreSQL's maintenance_work_mem while fresh tables are indexed
LOG_LOCK = 0x636F6F70  # "coop": the advisory lock that serialises appends on PostgreSQL
LISTEN_APPLICATION_NAME = "coop-listen"  # how the LISTEN connection shows in pg_stat_activity


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
        indexes dropped before and made again after, with the `building` settings, all in
        the caller's transaction. Rows come in faster with one index to keep up, and an
        index is made from them at once faster than it grows row by row. A duplicate that
        a unique index refuses is raised (IntegrityError) as the index is made; whatever
        the block raises leaves the indexes dropped until the caller's transaction rolls
        back (DDL is transactional on both engines). The indexes are `table.indexes`, with
        the names and definitions the migrations gave them, and the unique constraints'
        where the engine can drop them."""
        remake = await self._drop_unique_constraints(connection, table)
        for index in table.indexes:
            await connection.run_sync(index.drop)
        yield
        async with self.building(connection):
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


# --- SQLite -------------------------------------------------------------------------------

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
    # `unindexed` keeps a column's UNIQUE: SQLite makes its index with the table and can
    # drop it only with the table.

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


@contextlib.contextmanager
def _driver_errors(statement: str, *kinds: type[Exception]) -> Iterator[None]:
    """What the driver refuses, raised as SQLAlchemy raises it (the bulk paths talk to the
    driver directly), so callers catch one kind of error."""
    try:
        yield
    except kinds as error:
        raise DBAPIError(statement, None, error) from error


async def _sqlite_driver(connection: AsyncConnection) -> Any:
    """The aiosqlite connection under `connection`, in the same transaction."""
    return (await connection.get_raw_connection()).driver_connection


def _sqlite_moment(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# Dates, times and UUIDs handed to sqlite3 as they are (the bulk paths do) are spelled as
# SQLAlchemy spells them: dates as ISO text, times as naive UTC text with microseconds, so
# rows written in bulk read back and sort as any other. (SQLAlchemy converts its own values
# before sqlite3 sees them.) A log repeats its times: one spelling serves each.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, functools.lru_cache(maxsize=1 << 12)(_sqlite_moment))
sqlite3.register_adapter(UUID, operator.attrgetter("hex"))  # as SQLAlchemy's Uuid keeps it


# --- PostgreSQL ---------------------------------------------------------------------------

# The lock and the head in one call (migration 0004): a VOLATILE function reads the head
# with a snapshot taken after the lock was granted.
_LOCK_AND_READ_HEAD = text(
    "SELECT head_position AS position, head_hash AS hash, head_recorded_at AS recorded_at,"
    " last_version AS version FROM coop_lock_log_and_read_head(:lock_key, :stream_id)"
).columns(events.c.position, events.c.hash, events.c.recorded_at, column("version", Integer))
_PG_TREE = (
    f"SELECT {_SUBTREES_ROW}, e.position, e.subtrees, NULL FROM unnest($1::bigint[])"
    " AS k(position) JOIN events AS e ON e.position = k.position"
    f" UNION ALL SELECT {_EVENT_ROW}, e.position, NULL, e.hash"
    " FROM unnest($2::bigint[], $3::bigint[]) AS s(lo, hi)"
    " JOIN events AS e ON e.position > s.lo AND e.position <= s.hi"
    f" UNION ALL SELECT {_HEAD_ROW}, max(position), NULL, NULL FROM events"
)
_PG_TRIGGERS = text(
    "SELECT t.tgname, c.relname, t.tgtype, t.tgenabled, p.prosrc FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
    " WHERE NOT t.tgisinternal AND c.relname = ANY(:tables)"
)
# pg_trigger.tgtype bits: before, delete, update, truncate.
_BEFORE, _ACTIONS = 2, {"DELETE": 8, "UPDATE": 16, "TRUNCATE": 32}
_PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_COPY_FROM = 500  # rows: fewer go in one INSERT ... unnest


def unnest_insert(table: Table, first: int = 1) -> str:
    """PostgreSQL's one-statement INSERT of many rows: a column of values per parameter,
    turned back into rows by unnest. asyncpg encodes each array in C, where an executemany
    sends, binds and runs the INSERT once per row (bench/README.md has the rates).

    Strings go in as text: a cast to varchar(n) would cut an overlong value short without
    a word, where assigning text to the column refuses it. Parameters are numbered from
    `first`.
    """
    names = ", ".join(column.name for column in table.columns)
    arrays = ", ".join(
        f"${number}::{_array_type(column.type)}[]"
        for number, column in enumerate(table.columns, start=first)
    )
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"


def _array_type(kind: TypeEngine[Any]) -> str:
    return "text" if isinstance(kind, String) else kind.compile(dialect=_PG_DIALECT)


class PostgreSQL(Backend):
    """PostgreSQL: an advisory lock serialises appends; LISTEN/NOTIFY crosses processes."""

    name = "postgresql"
    renames_indexes = True

    def __init__(self) -> None:
        self._inserts: dict[str, str] = {}

    async def lock_log(self, connection: AsyncConnection) -> None:
        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOG_LOCK})")

    async def lock_and_read_head(
        self, connection: AsyncConnection, stream_id: str
    ) -> HeadRow | None:
        values = {"lock_key": LOG_LOCK, "stream_id": stream_id}
        return await _head_row(connection, _LOCK_AND_READ_HEAD, values)

    async def insert_many(
        self, connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        if not rows:
            return
        # A column a row does not name is NULL (an event's subtrees, where it holds none).
        columns = tuple([row.get(c.name) for row in rows] for c in table.columns)
        await connection.exec_driver_sql(self._insert(table), columns)

    async def write_rows(
        self, connection: AsyncConnection, table: Table, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        if len(rows) < _COPY_FROM:  # a COPY asks for the column types first: a round trip
            columns = tuple(list(values) for values in zip(*rows, strict=True))
            await connection.exec_driver_sql(self._insert(table), columns)
            return
        import asyncpg

        driver: Any = (await connection.get_raw_connection()).driver_connection
        names = [column.name for column in table.columns]
        with _driver_errors(f"COPY {table.name}", asyncpg.PostgresError):
            await driver.copy_records_to_table(table.name, records=rows, columns=names)

    @contextlib.asynccontextmanager
    async def building(self, connection: AsyncConnection) -> AsyncIterator[None]:
        # CREATE INDEX sorts in maintenance_work_mem (64 MB by default) and spills to disk
        # beyond it; SET LOCAL ends with the transaction.
        if connection.in_transaction():
            await connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'")
        yield

    async def _drop_unique_constraints(
        self, connection: AsyncConnection, table: Table
    ) -> list[str]:
        remake = []
        for constraint in table.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            columns = [column.name for column in constraint.columns]
            # Unnamed in the migrations (a column's unique=True): PostgreSQL's own name.
            name = constraint.name or f"{table.name}_{'_'.join(columns)}_key"
            quoted = ", ".join(f'"{column}"' for column in columns)
            await connection.exec_driver_sql(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"')
            remake.append(f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{name}" UNIQUE ({quoted})')
        return remake

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
        names = [*set_columns, *where_columns]
        arrays = ", ".join(
            f"${number}::{_array_type(table.c[name].type)}[]"
            for number, name in enumerate(names, start=1)
        )
        aliases = ", ".join(f"v{number}" for number in range(len(names)))
        changes = ", ".join(f'"{name}" = u.v{n}' for n, name in enumerate(set_columns))
        which = " AND ".join(
            f't."{name}" = u.v{n}' for n, name in enumerate(where_columns, start=len(set_columns))
        )
        sql = (
            f'UPDATE "{table.name}" AS t SET {changes}'
            f" FROM unnest({arrays}) AS u({aliases}) WHERE {which}"
        )
        columns = tuple(list(values) for values in zip(*rows, strict=True))
        await connection.exec_driver_sql(sql, columns)

    async def read_log(
        self,
        connection: AsyncConnection,
        after: int,
        until: int,
        limit: int,
        types: Sequence[str] | None,
    ) -> list[LogRow]:
        only = " AND type = ANY($4::text[])" if types else ""
        sql = (
            "SELECT position, type, schema_version, data, recorded_at FROM events"
            f" WHERE position > $1 AND position <= $2{only} ORDER BY position LIMIT $3"
        )
        driver: Any = (await connection.get_raw_connection()).driver_connection
        found = await driver.fetch(sql, after, until, limit, *([list(types)] if types else []))
        return [LogRow(*row) for row in found]

    def _insert(self, table: Table) -> str:
        statement = self._inserts.get(table.name)
        if statement is None:
            statement = self._inserts[table.name] = unnest_insert(table)
        return statement

    async def tree_rows(
        self, connection: AsyncConnection, holders: Sequence[int], spans: Pairs
    ) -> TreeRows:
        # Through the driver: one round trip, the statement prepared once a connection,
        # where SQLAlchemy would begin a transaction first and roll it back after.
        import asyncpg

        driver: Any = (await connection.get_raw_connection()).driver_connection
        with _driver_errors(_PG_TREE, asyncpg.PostgresError):
            rows = await driver.fetch(
                _PG_TREE,
                list(holders),
                [lo for lo, _ in spans],
                [hi for _, hi in spans],
            )
        return TreeRows.of(rows)

    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        await connection.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )

    async def listen(
        self, url: URL, channel: str, heard: Callable[[str | None], None]
    ) -> Listener | None:
        import asyncpg

        from events.listener import ReconnectingListener

        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)

        async def connect() -> Any:
            settings = {"application_name": LISTEN_APPLICATION_NAME}
            return await asyncpg.connect(plain, server_settings=settings, timeout=10)

        listener = ReconnectingListener(connect, channel, heard)
        await listener.start()
        return listener

    async def triggers(self, connection: AsyncConnection, tables: Sequence[str]) -> list[Trigger]:
        rows = (await connection.execute(_PG_TRIGGERS, {"tables": list(tables)})).all()
        found = []
        for name, table, tgtype, enabled, source in rows:
            # 'O' fires in ordinary sessions, 'A' always; 'D' is disabled, 'R' only on replicas.
            fires = enabled in ("O", "A", b"O", b"A") and "RAISE EXCEPTION" in str(source)
            bits = int(str(tgtype))
            refuses = {
                action
                for action, bit in _ACTIONS.items()
                if fires and bits & _BEFORE and bits & bit
            }
            found.append(Trigger(name, table, frozenset(refuses)))
        return found

    def guards(self, table: str) -> dict[str, frozenset[str]]:
        return {
            f"{table}_append_only": frozenset({"UPDATE", "DELETE"}),
            f"{table}_no_truncate": frozenset({"TRUNCATE"}),
        }

    def guard_statements(self, table: str) -> list[str]:
        # coop_refuse_log_change() is migration 0001's.
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION coop_refuse_log_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION coop_refuse_log_change()",
        ]

    async def replace_table(
        self, connection: AsyncConnection, live: Table, fresh: Table, suffix: str
    ) -> None:
        await connection.execute(text(f'DROP TABLE "{live.name}"'))
        await connection.execute(text(f'ALTER TABLE "{fresh.name}" RENAME TO "{live.name}"'))
        # The primary key's index keeps the name it was made with otherwise.
        await connection.execute(
            text(
                f'ALTER TABLE "{live.name}" RENAME CONSTRAINT'
                f' "{fresh.name}_pkey" TO "{live.name}_pkey"'
            )
        )
        for index in live.indexes:
            await connection.execute(
                text(f'ALTER INDEX "{index.name}{suffix}" RENAME TO "{index.name}"')
            )


async def _head_row(
    connection: AsyncConnection, query: Executable, values: dict[str, Any]
) -> HeadRow | None:
    row = (await connection.execute(query, values)).first()
    return None if row is None else HeadRow(row.position, row.hash, row.recorded_at, row.version)


BACKENDS: dict[str, Backend] = {"sqlite": SQLite(), "postgresql": PostgreSQL()}


def backend_of(connection: AsyncConnection | Any) -> Backend:
    """The backend for a connection or engine (anything with a SQLAlchemy `dialect`)."""
    return BACKENDS[connection.dialect.name]
