"""Scratch PostgreSQL databases beside a given one, and bulk rows to load a database with,
for the tests and the benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import String, cast, literal, make_url, select
from sqlalchemy.ext.asyncio import AsyncConnection

from events.database import create_engine
from projections.models.partners import partners


async def create_postgres_database(admin_url: str, prefix: str = "coop_test") -> str:
    """A new empty database beside `admin_url`'s; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _run(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, url: str) -> None:
    """Drop the database at `url`, connections and all."""
    await _run(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@asynccontextmanager
async def scratch_postgres_database(
    admin_url: str, prefix: str = "coop_test"
) -> AsyncIterator[str]:
    """A fresh, empty database beside `admin_url`'s, dropped afterwards; yields its URL."""
    url = await create_postgres_database(admin_url, prefix)
    try:
        yield url
    finally:
        await drop_postgres_database(admin_url, url)


async def _run(admin_url: str, statement: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await admin.dispose()


async def many_partners(connection: AsyncConnection, count: int) -> None:
    """`count` copies of one partner under new keys, written straight into the read table."""
    numbers = select(literal(1).label("i")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.i + 1).where(numbers.c.i < count))
    copied = [
        ((literal("bulk-") + cast(numbers.c.i, String)) if column.name == "key" else column).label(
            column.name
        )
        for column in partners.columns
    ]
    query = (
        select(*copied)
        .select_from(partners)
        .join(numbers, literal(True))
        .where(partners.c.key == "tokyo", partners.c.record_to.is_(None))
    )
    await connection.execute(
        partners.insert().from_select([c.name for c in partners.columns], query)
    )
