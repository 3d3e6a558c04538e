"""What differs between the two engines, behind one small interface.

Everything else in Coop speaks SQLAlchemy Core and runs the same on both. Here alone:
how an append takes the log's write lock and reads the head, how many rows are written
at once, how appends are announced to other processes, which triggers guard a table,
and how a rebuilt table takes the place of the live one.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, Integer, Table, bindparam, column, func, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String, TypeEngine

from events.tables import events

LOG_LOCK = 0x636F6F70  # "coop": the advisory lock that serialises appends on PostgreSQL


@dataclass(frozen=True)
class HeadRow:
    """The log's last position, hash and record time, and one stream's last version."""

    position: int
    hash: str
    recorded_at: Any
    version: int | None


@dataclass(frozen=True)
class Trigger:
    """A trigger as the database holds it: on which table, and whether it still refuses
    the edits it was made to refuse ("UPDATE", "DELETE", "TRUNCATE")."""

    name: str
    table: str
    refuses: frozenset[str]


class Listener(ABC):
    @abstractmethod
    async def close(self) -> None: ...


class Backend(ABC):
    """One engine's way of doing what the others do differently."""

    name: str

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
    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        """Tell other processes, once this transaction commits (where any can hear)."""

    @abstractmethod
    async def listen(self, url: URL, channel: str, heard: Callable[[], None]) -> Listener | None:
        """Call `heard` when another process notifies `channel`; None where none can."""

    @abstractmethod
    async def triggers(self, connection: AsyncConnection, tables: Sequence[str]) -> list[Trigger]:
        """The triggers on `tables` and what each (still) refuses."""

    @abstractmethod
    def guards(self, table: str) -> dict[str, frozenset[str]]:
        """The triggers the migrations make to keep `table` append-only, and what each must
        refuse."""

    @abstractmethod
    async def replace_table(
        self, connection: AsyncConnection, live: Table, fresh: Table, suffix: str
    ) -> None:
        """Drop `live` and give `fresh` its name; `fresh`'s indexes are `live`'s names with
        `suffix` added, and get `live`'s names back. In the caller's transaction."""


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
_SQLITE_TRIGGERS = text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")


class SQLite(Backend):
    """SQLite: BEGIN IMMEDIATE (see events.database) already holds the write lock."""

    name = "sqlite"

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

    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        return None  # one process per SQLite file serves subscribers; it wakes them itself

    async def listen(self, url: URL, channel: str, heard: Callable[[], None]) -> Listener | None:
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

    async def replace_table(
        self, connection: AsyncConnection, live: Table, fresh: Table, suffix: str
    ) -> None:
        await connection.execute(text(f'DROP TABLE "{live.name}"'))
        await connection.execute(text(f'ALTER TABLE "{fresh.name}" RENAME TO "{live.name}"'))
        for index in live.indexes:  # SQLite cannot rename an index: make it anew
            await connection.execute(text(f'DROP INDEX "{index.name}{suffix}"'))
            await connection.run_sync(index.create)


# --- PostgreSQL ---------------------------------------------------------------------------

# The lock and the head in one call (migration 0004): a VOLATILE function reads the head
# with a snapshot taken after the lock was granted.
_LOCK_AND_READ_HEAD = text(
    "SELECT head_position AS position, head_hash AS hash, head_recorded_at AS recorded_at,"
    " last_version AS version FROM coop_lock_log_and_read_head(:lock_key, :stream_id)"
).columns(events.c.position, events.c.hash, events.c.recorded_at, column("version", Integer))
_PG_TRIGGERS = text(
    "SELECT t.tgname, c.relname, t.tgtype, t.tgenabled, p.prosrc FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
    " WHERE NOT t.tgisinternal AND c.relname = ANY(:tables)"
)
# pg_trigger.tgtype bits: before, delete, update, truncate.
_BEFORE, _ACTIONS = 2, {"DELETE": 8, "UPDATE": 16, "TRUNCATE": 32}
_PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def unnest_insert(table: Table) -> str:
    """PostgreSQL's one-statement INSERT of many rows: a column of values per parameter,
    turned back into rows by unnest. asyncpg encodes each array in C, where an executemany
    sends, binds and runs the INSERT once per row (bench/README.md has the rates).

    Strings go in as text: a cast to varchar(n) would cut an overlong value short without
    a word, where assigning text to the column refuses it.
    """
    names = ", ".join(column.name for column in table.columns)
    arrays = ", ".join(
        f"${number}::{_array_type(column.type)}[]"
        for number, column in enumerate(table.columns, start=1)
    )
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"


def _array_type(kind: TypeEngine[Any]) -> str:
    return "text" if isinstance(kind, String) else kind.compile(dialect=_PG_DIALECT)


class _AsyncpgListener(Listener):
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close()


class PostgreSQL(Backend):
    """PostgreSQL: an advisory lock serialises appends; LISTEN/NOTIFY crosses processes."""

    name = "postgresql"

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
        statement = self._inserts.get(table.name)
        if statement is None:
            statement = self._inserts[table.name] = unnest_insert(table)
        columns = tuple([row[c.name] for row in rows] for c in table.columns)
        await connection.exec_driver_sql(statement, columns)

    async def notify(self, connection: AsyncConnection, channel: str, payload: str) -> None:
        await connection.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )

    async def listen(self, url: URL, channel: str, heard: Callable[[], None]) -> Listener | None:
        import asyncpg

        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        await connection.add_listener(channel, lambda *_: heard())
        return _AsyncpgListener(connection)

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
