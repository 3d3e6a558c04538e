"""How a rebuilt table differs from the live one, and a digest of tables' whole content."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, String, Table, and_, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from events.chain import canonical_json_bytes
from events.rows import moment_text
from events.store import EventStore
from events.tables import UTCDateTime


@dataclass(frozen=True)
class TableDiff:
    """How a rebuilt table differs from the live one: row counts; rows changed (their
    primary key on both sides, their values not the same) and rows with a primary key on
    one side only; and the first keys that differ with their versions on each side."""

    table: str
    live_rows: int
    rebuilt_rows: int
    changed: int
    only_live: int
    only_rebuilt: int
    first: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]

    @property
    def same(self) -> bool:
        return self.changed == 0 and self.only_live == 0 and self.only_rebuilt == 0


async def compare(
    connection: AsyncConnection, live: Table, fresh: Table, first: int = 3
) -> TableDiff:
    """How `fresh` differs from `live`, row by row, in the database."""
    order = [column.name for column in live.primary_key.columns]

    async def count(query: Any) -> int:
        return (await connection.scalar(select(func.count()).select_from(query.subquery()))) or 0

    only_live = select(live).except_(select(fresh))
    only_fresh = select(fresh).except_(select(live))
    lost, gained = only_live.subquery(), only_fresh.subquery()
    counted = await count(only_live), await count(only_fresh)
    changed = 0
    if all(counted):  # else no key is on both sides: the join need not run
        changed = await count(
            select(*(lost.c[name] for name in order)).join(
                gained, and_(*(lost.c[name] == gained.c[name] for name in order))
            )
        )
    keys: set[str] = set()
    for query in (only_live, only_fresh):
        sample = query.subquery()
        found = await connection.scalars(
            select(sample.c.key).distinct().order_by(sample.c.key).limit(first)
        )
        keys.update(found)
    shown = []
    for key in sorted(keys)[:first]:
        sides = []
        for one, other in ((live, fresh), (fresh, live)):
            differing = (
                select(one).where(one.c.key == key).except_(select(other).where(other.c.key == key))
            )
            sample = differing.subquery()
            result = await connection.execute(
                select(sample).order_by(*(sample.c[n] for n in order))
            )
            sides.append([{k: _plain(v) for k, v in row.items()} for row in result.mappings()])
        shown.append((key, sides[0], sides[1]))
    return TableDiff(
        table=live.name,
        live_rows=(await connection.scalar(select(func.count()).select_from(live))) or 0,
        rebuilt_rows=(await connection.scalar(select(func.count()).select_from(fresh))) or 0,
        changed=changed,
        only_live=counted[0] - changed,
        only_rebuilt=counted[1] - changed,
        first=shown,
    )


async def table_digest(
    store: EventStore, tables: Sequence[Table], read: Callable[[int], None] | None = None
) -> str:
    """sha256 over every row of `tables`, in key order, values in one canonical spelling;
    `read` is told how many rows each page held."""
    digest = hashlib.sha256()
    async with store.engine.connect() as connection:
        for table in tables:
            digest.update(f"table {table.name}\n".encode())
            order = [column for column in table.primary_key.columns]
            spelled = _spellings(table)
            # Dates and times as the database gives them (SQLite's text is spelled as it is,
            # not parsed into a value and spelled again).
            columns = [
                type_coerce(column, String) if spelled.get(i) in _AS_KEPT else column
                for i, column in enumerate(table.columns)
            ]
            result = await connection.stream(select(*columns).order_by(*order))
            # A page at a time: each row through the async result costs a greenlet switch.
            async for rows in result.partitions(_DIGEST_PAGE):
                for row in rows:
                    values = list(row)
                    for i, spell in spelled.items():
                        values[i] = spell(values[i])
                    digest.update(canonical_json_bytes(values) + b"\n")
                if read is not None:
                    read(len(rows))
    return digest.hexdigest()


def _spellings(table: Table) -> dict[int, Callable[[Any], Any]]:
    """How the values of `table`'s columns that are not plain JSON are spelled, by column:
    times in UTC and dates from what the database keeps (`_AS_KEPT`), any other value as
    `_plain` spells it."""
    found: dict[int, Callable[[Any], Any]] = {}
    for i, column in enumerate(table.columns):
        kind = column.type
        if isinstance(kind, UTCDateTime):
            found[i] = _moment
        elif isinstance(kind, Date) and not isinstance(kind, DateTime):
            found[i] = _day
        elif _python_type(kind) not in _AS_IS:
            found[i] = _plain
    return found


def _python_type(kind: TypeEngine[Any]) -> type | None:
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _moment(value: Any) -> str | None:
    """A time as an aware UTC time's isoformat to the microsecond. SQLite keeps it as naive
    UTC text, '2021-01-01 00:00:20.000000' (`events.tables.UTCDateTime`)."""
    return None if value is None else moment_text(value)


def _day(value: Any) -> str | None:
    """A day as its isoformat. SQLite keeps it as text, '2015-06-01'."""
    if isinstance(value, str):
        return value if len(value) == 10 else date.fromisoformat(value).isoformat()
    return None if value is None else str(value.isoformat())


_AS_KEPT = (_moment, _day)  # the spellings that take SQLite's text as it is kept


_DIGEST_PAGE = 1000
_AS_IS = frozenset({str, int, float, bool, type(None)})  # values `_plain` gives back as they are


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
