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
from events.guards import guard_problems
from events.merkle import root_of
from events.model import RecordedEvent
from events.rows import row_values
from events.tables import events, merkle_nodes
from events.tree import LOWEST_KEPT, leaf_of, prove_consistency, prove_inclusion, root_at
from service.migrate import downgrade, target_metadata, upgrade
from tests.store.test_merkle import consistency, mth, path


async def test_migrated_database_matches_the_code(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), target_metadata)
        )
    assert differences == []


async def test_the_tree_of_a_log_written_before_it_is_built_by_the_migration(
    database_url: str,
) -> None:
    """A log at revision 0005 (no tree yet) gets its kept subtrees from its hashes."""
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
        assert count == kept_count(37)
    finally:
        await engine.dispose()


def kept_count(size: int) -> int:
    """How many subtrees of a tree of `size` leaves the node table keeps."""
    return sum(size >> level for level in range(LOWEST_KEPT, size.bit_length()))


async def test_a_tree_kept_whole_gives_the_same_roots_and_proofs_once_thinned(
    database_url: str,
) -> None:
    """Revision 0006 kept every complete subtree; 0007 drops those below LOWEST_KEPT. The
    roots and proofs are those of RFC 9162 before, after, and back down again."""
    size = 70
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        rows = [row_values(event) for event in chained_events(size)]
        async with engine.begin() as connection:
            await connection.execute(insert(events), rows)
        leaves = [leaf_of(row["hash"]) for row in rows]
        await upgrade(engine, "0006")
        assert await node_count(engine) == 2 * size - bin(size).count("1")
        await check_tree(engine, leaves)
        await upgrade(engine)
        assert await node_count(engine) == kept_count(size)
        await check_tree(engine, leaves)
        assert await guard_problems(engine) == []  # the node table is guarded again
        await downgrade(engine, "0006")
        assert await node_count(engine) == 2 * size - bin(size).count("1")
        await check_tree(engine, leaves)
    finally:
        await engine.dispose()


async def node_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(merkle_nodes)) or 0)


async def check_tree(engine: AsyncEngine, leaves: list[bytes]) -> None:
    """Every root, every position of the whole tree and every size to the whole."""
    size = len(leaves)
    async with engine.connect() as connection:
        for n in range(1, size + 1):
            assert await root_at(connection, n) == mth(leaves[:n])
    for position in range(1, size + 1):
        assert await prove_inclusion(engine, position, size) == path(position - 1, leaves)
        assert await prove_consistency(engine, position, size) == consistency(position, leaves)


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
