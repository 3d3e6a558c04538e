"""The two clocks a read is made on, and what every row it returns says about certainty."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import Column, Select, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from events.dates import PartialDate
from projections.versions import certainly_holds_within, known_at, may_hold_within

Row = dict[str, Any]
LIST_COLUMNS = frozenset(
    {
        "notes",
        "topics",
        "participants",
        "representatives",
        "focus_areas",
        "collaborators",
        "sections",
    }
)
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Basis:
    """What a read answers on: in valid time a day (`as_of`) or a period (`during`: what held
    at some point of it), and a record position (`position`); None means now, any time."""

    as_of: date | None = None
    position: int | None = None
    during: PartialDate | None = None

    @property
    def window(self) -> tuple[date, date] | None:
        """The first and last day asked about in valid time (None: no day is asked)."""
        if self.as_of is not None:
            return self.as_of, self.as_of
        if self.during is not None:
            return self.during.earliest, self.during.latest
        return None

    def where(self, table: Table, query: Select[Any]) -> Select[Any]:
        query = query.where(known_at(table, self.position))
        window = self.window
        if window is not None:
            query = query.where(may_hold_within(table, *window))
        return query

    def certain(self, row: Mapping[str, Any]) -> bool:
        """Does the record show that `row` held (on some day of the window)?"""
        window = self.window
        return True if window is None else certainly_holds_within(row, *window)

    def on_record(self) -> Basis:
        """The same record position, with no day asked about."""
        return Basis(position=self.position)


@dataclass(frozen=True)
class Page:
    """Keyset pagination: at most `limit` rows after the key `after` and before `before`; the
    first of them, or with `backward` the last."""

    after: str | None = None
    limit: int = 100
    before: str | None = None
    backward: bool = False

    def apply(self, table: Table, query: Select[Any], order: Sequence[Any] = ()) -> Select[Any]:
        if self.after is not None:
            query = query.where(table.c.key > self.after)
        if self.before is not None:
            query = query.where(table.c.key < self.before)
        keys = [*order, table.c.key, table.c.slice]
        if self.backward:
            keys = [key.desc() for key in keys]
        return query.order_by(*keys).limit(self.size + 1)

    @property
    def size(self) -> int:
        return max(0, min(self.limit, MAX_LIMIT))


def plain(row: Mapping[Any, Any], basis: Basis) -> Row:
    """A row as the API sees it: lists decoded, and whether the as-of answer is certain."""
    out = {k: (msgspec.json.decode(v) if k in LIST_COLUMNS else v) for k, v in row.items()}
    out["certain"] = basis.certain(row)
    return out


def page_of(rows: Sequence[Mapping[Any, Any]], basis: Basis, page: Page) -> tuple[list[Row], bool]:
    """The rows of one page, in key order, and whether there are more beyond it (after it,
    or before it when paging backward)."""
    found = [plain(r, basis) for r in rows[: page.size]]
    return (found[::-1] if page.backward else found), len(rows) > page.size


@dataclass(frozen=True)
class Found:
    """One page of rows, whether more follow, and (when asked for) how many match in all."""

    rows: list[Row]
    has_more: bool
    total: int | None = None


async def run_page(
    connection: AsyncConnection,
    table: Table,
    query: Select[Any],
    basis: Basis,
    page: Page,
    with_total: bool = False,
) -> Found:
    total = None
    if with_total:
        total = await connection.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await connection.execute(page.apply(table, query))).mappings().all()
    found, more = page_of(rows, basis, page)
    return Found(found, more, total)


def one_of(column: Any, values: Sequence[str] | None) -> Any:
    return and_(True) if values is None else column.in_(list(values))


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, lower-cased, with `%`, `_` and the escape
    character in it matching only themselves (with `ESCAPE LIKE_ESCAPE`)."""
    escaped = text.lower()
    for special in (LIKE_ESCAPE, "%", "_"):
        escaped = escaped.replace(special, LIKE_ESCAPE + special)
    return f"%{escaped}%"


def text_match(columns: Sequence[Any], text: str) -> Any:
    """Columns holding `text`, case aside; `%` and `_` in it match only themselves."""
    pattern = contains_pattern(text)
    return or_(
        *(
            column.is_not(None) & func.lower(column).like(pattern, escape=LIKE_ESCAPE)
            for column in columns
        )
    )


async def grouped(
    connection: AsyncConnection,
    table: Table,
    column: Column[str],
    keys: Sequence[str],
    basis: Basis,
) -> dict[str, list[Row]]:
    """Rows of `table` whose `column` is one of `keys`, grouped by it (for loaders)."""
    query = basis.where(table, select(table)).where(column.in_(list(keys)))
    query = query.order_by(column, table.c.valid_from_lo, table.c.key)
    result: dict[str, list[Row]] = defaultdict(list)
    for row in (await connection.execute(query)).mappings():
        result[row[column.name]].append(plain(row, basis))
    return result


def by_key(
    table: Table,
) -> Callable[[AsyncConnection, Sequence[str], Basis], Awaitable[dict[str, Row]]]:
    """A batched query for objects of one table by key, on a basis."""

    async def fetch(
        connection: AsyncConnection, keys: Sequence[str], basis: Basis
    ) -> dict[str, Row]:
        query = basis.where(table, select(table)).where(table.c.key.in_(list(keys)))
        query = query.order_by(table.c.key, table.c.valid_from_lo, table.c.slice)
        return {r["key"]: plain(r, basis) for r in (await connection.execute(query)).mappings()}

    return fetch
