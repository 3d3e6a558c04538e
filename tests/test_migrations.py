"""The migrations build exactly the tables the code defines, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import GENESIS_HASH, event_hash
from events.database import create_engine
from events.merkle import root_of
from events.model import RecordedEvent
from events.rows import row_values
from events.tables import events, merkle_nodes
from events.tree import leaf_of, root_at
from service.migrate import target_metadata, upgrade


async def test_migrated_database_matches_the_code(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), target_metadata)
        )
    assert differences == []


async def test_the_tree_of_a_log_written_before_it_is_built_by_the_migration(
    database_url: str,
) -> None:
    """A log at revision 0005 (no tree yet) gets its complete subtrees from its hashes."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        rows = [row_values(event) for event in chained_events(37)]
        async with engine.begin() as connection:
            await connection.execute(insert(events), rows)
        await upgrade(engine)
        async with engine.connect() as connection:
            stored = await root_at(connection, 37)
            count = await connection.scalar(select(func.count()).select_from(merkle_nodes))
        assert stored == root_of(leaf_of(row["hash"]) for row in rows)
        assert count == 2 * 37 - bin(37).count("1")
    finally:
        await engine.dispose()


def chained_events(count: int) -> list[RecordedEvent]:
    """A valid hash-chained log of `count` events of one stream."""
    events_made, prev_hash = [], GENESIS_HASH
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for position in range(1, count + 1):
        values = {
            "position": position,
            "stream_id": "s",
            "stream_version": position,
            "event_id": uuid4(),
            "type": "Noted",
            "schema_version": 1,
            "recorded_at": moment,
        }
        digest = event_hash(prev_hash, **values, data="{}", metadata="{}")
        events_made.append(
            RecordedEvent(**values, data={}, metadata={}, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    return events_made
