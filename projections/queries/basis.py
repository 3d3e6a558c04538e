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

from projections.versions import certainly_holds, known_at, may_hold_on

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
    """Valid day (`as_of`) and record position (`position`) of a read; None means now."""

    as_of: date | None = None
    position: int | None = None

    def where(self, table: Table, query: Select[Any]) -> Select[Any]:
        query = query.where(known_at(table, self.position))
        if self.as_of is not None:
            query = query.where(may_hold_on(table, self.as_of))
        return query


@dataclass(frozen=True)
class Page:
    """Keyset pagination: rows after the key `after`, at most `limit` of them."""

    after: str | None = None
    limit: int = 100

    def apply(self, table: Table, query: Select[Any], order: Sequence[Any] = ()) -> Select[Any]:
        if self.after is not None:
            query = query.where(table.c.key > self.after)
        limit = max(0, min(self.limit, MAX_LIMIT))
        return query.order_by(*order, table.c.key, table.c.slice).limit(limit + 1)


def plain(row: Mapping[Any, Any], basis: Basis) -> Row:
    """A row as the API sees it: lists decoded, and whether the as-of answer is certain."""
    out = {k: (msgspec.json.decode(v) if k in LIST_COLUMNS else v) for k, v in row.items()}
    out["certain"] = True if basis.as_of is None else certainly_holds(row, basis.as_of)
    return out


def page_of(rows: Sequence[Mapping[Any, Any]], basis: Basis, page: Page) -> tuple[list[Row], bool]:
    """The rows of one page and whether there are more after it."""
    limit = max(0, min(page.limit, MAX_LIMIT))
    return [plain(r, basis) for r in rows[:limit]], len(rows) > limit


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


def text_match(columns: Sequence[Any], text: str) -> Any:
    pattern = f"%{text.lower()}%"
    return or_(*(column.is_not(None) & column.ilike(pattern) for column in columns))


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
