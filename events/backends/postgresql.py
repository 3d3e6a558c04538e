"""PostgreSQL's way: an advisory lock, INSERT ... unnest and COPY for many rows, and
LISTEN/NOTIFY across processes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Integer, Table, UniqueConstraint, column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String, TypeEngine

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
from events.tables import events

_BUILD_MEMORY = "256MB"  # PostgreSQL's maintenance_work_mem while fresh tables are indexed
LOG_LOCK = 0x636F6F70  # "coop": the advisory lock that serialises appends on PostgreSQL
LISTEN_APPLICATION_NAME = "coop-listen"  # how the LISTEN connection shows in pg_stat_activity


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
