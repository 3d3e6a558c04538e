"""Partners: current, filtered, by key, as of a day and as the record stood."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.models.partners import partners
from projections.models.sources import sources
from projections.queries.basis import Basis, Found, Page, Row, plain, run_page, text_match


def _versions(basis: Basis):  # type: ignore[no-untyped-def]
    query = basis.where(partners, select(partners))
    if basis.window is None:
        # Without a day, the partner as it is now: the slice with no end.
        query = query.where(partners.c.valid_to.is_(None))
    return query


async def find_partners(
    connection: AsyncConnection,
    basis: Basis = Basis(),
    page: Page = Page(),
    *,
    with_total: bool = False,
    kind: str | None = None,
    country: str | None = None,
    region: str | None = None,
    search: str | None = None,
) -> Found:
    """Partners matching every filter given, in key order, one page of them."""
    query = _versions(basis)
    for column, value in ((partners.c.kind, kind), (partners.c.country, country)):
        if value is not None:
            query = query.where(column == value)
    if region is not None:
        query = query.where(partners.c.region == region)
    if search:
        columns = [partners.c.key, partners.c.name, partners.c.description]
        query = query.where(text_match(columns, search))
    return await run_page(connection, partners, query, basis, page, with_total)


async def partners_by_key(
    connection: AsyncConnection, keys: Sequence[str], basis: Basis = Basis()
) -> dict[str, Row]:
    """Each key's partner on the basis (absent keys are left out)."""
    query = _versions(basis).where(partners.c.key.in_(list(keys)))
    rows = (await connection.execute(query.order_by(partners.c.valid_from_lo))).mappings()
    return {row["key"]: plain(row, basis) for row in rows}


async def find_sources(connection: AsyncConnection, basis: Basis = Basis()) -> list[Row]:
    """Every registered source document, in key order."""
    query = basis.where(sources, select(sources)).order_by(sources.c.key)
    return [plain(row, basis) for row in (await connection.execute(query)).mappings()]
