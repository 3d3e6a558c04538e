"""Tamper evidence: the database refuses edits, and verify names the first altered position."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from events.model import Metadata
from events.store import EventStore
from events.verify import verify_chain
from tests.store.kinds import ThingNamed


async def fill(store: EventStore, count: int = 6) -> None:
    for n in range(count):
        meta = Metadata(idempotency_key=f"fill-{n}")
        await store.append(f"thing:{n % 3}", [ThingNamed(f"n{n}", [str(n)])], metadata=meta)


async def drop_guards(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("DROP TRIGGER events_append_only ON events"))
        else:
            await connection.execute(text("DROP TRIGGER events_no_update"))
            await connection.execute(text("DROP TRIGGER events_no_delete"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE position = 2",
        "DELETE FROM events WHERE position = 2",
        "UPDATE idempotency_keys SET key = 'x'",
    ],
)
async def test_database_refuses_update_and_delete(
    store: EventStore, engine: AsyncEngine, statement: str
) -> None:
    await fill(store)
    before = await store.read_all()
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    assert await store.read_all() == before


async def test_truncate_is_refused_on_postgres(store: EventStore, engine: AsyncEngine) -> None:
    await fill(store)
    statement = "TRUNCATE events" if engine.dialect.name == "postgresql" else "DELETE FROM events"
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    assert (await store.head()).position == 6


async def test_verify_accepts_an_untouched_log_and_ranges(store: EventStore) -> None:
    await fill(store)
    report = await verify_chain(store)
    assert (report.ok, report.checked, report.first_bad_position) == (True, 6, None)
    part = await verify_chain(store, after=2, until=4)
    assert (part.ok, part.checked) == (True, 2)


async def test_verify_names_a_changed_event(store: EventStore, engine: AsyncEngine) -> None:
    await fill(store)
    await drop_guards(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text("""UPDATE events SET data = '{"name":"forged","tags":[]}' WHERE position = 4""")
        )
    report = await verify_chain(store)
    assert not report.ok
    assert report.first_bad_position == 4
    assert report.checked == 3
    assert "altered" in report.message


async def test_verify_names_a_deleted_event(store: EventStore, engine: AsyncEngine) -> None:
    await fill(store)
    await drop_guards(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM events WHERE position = 3"))
    report = await verify_chain(store)
    assert (report.ok, report.first_bad_position) == (False, 3)
    assert "missing" in report.message


async def test_verify_names_swapped_events(store: EventStore, engine: AsyncEngine) -> None:
    await fill(store)
    await drop_guards(engine)
    async with engine.begin() as connection:
        # Swap the payloads of positions 2 and 5 (a reordering of what was said).
        rows = await connection.execute(
            text("SELECT position, data FROM events WHERE position IN (2, 5)")
        )
        data = {row.position: row.data for row in rows}
        for position, other in ((2, 5), (5, 2)):
            await connection.execute(
                text("UPDATE events SET data = :data WHERE position = :position"),
                {"data": data[other], "position": position},
            )
        swapped = await connection.execute(
            text("SELECT data FROM events WHERE position IN (2, 5) ORDER BY position")
        )
        assert swapped.scalars().all() == [data[5], data[2]]
    report = await verify_chain(store)
    assert (report.ok, report.first_bad_position) == (False, 2)


async def test_verify_names_a_rewritten_chain(store: EventStore, engine: AsyncEngine) -> None:
    await fill(store)
    await drop_guards(engine)
    async with engine.begin() as connection:
        # A forger who recomputes one event's hash still breaks the link to the next one.
        await connection.execute(
            text("UPDATE events SET hash = :h WHERE position = 3"), {"h": "f" * 64}
        )
    report = await verify_chain(store)
    assert report.first_bad_position == 3
