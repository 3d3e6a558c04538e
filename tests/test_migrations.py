"""The migrations build exactly the tables the code defines, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import GENESIS_HASH, event_hash
from events.database import create_engine
from events.guards import guard_problems
from events.kept import LOWEST_KEPT, kept_subtrees
from events.merkle import Frontier, Key, root_of
from events.model import RecordedEvent
from events.rows import row_values
from events.tables import events
from events.tree import leaf_of, prove_consistency, prove_inclusion, root_at
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
        assert stored == root_of(leaf_of(row["hash"]) for row in rows)
        await check_tree(engine, [leaf_of(row["hash"]) for row in rows])
    finally:
        await engine.dispose()


def all_subtrees(leaves: list[bytes], lowest: int = 0) -> dict[Key, bytes]:
    """Every complete subtree of the tree over `leaves` at level `lowest` and above."""
    return {(n.level, n.idx): n.hash for n in Frontier().extend(leaves, lowest)}


async def test_a_tree_kept_whole_gives_the_same_roots_and_proofs_once_thinned(
    database_url: str,
) -> None:
    """Revision 0006 kept every complete subtree in a table; 0007 drops those below
    LOWEST_KEPT; 0008 moves the rest into the events' rows. The table holds the tree's
    subtrees at each revision on the way up and down, and at the last one the roots and
    proofs are those of RFC 9162."""
    size = 70
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        rows = [row_values(event) for event in chained_events(size)]
        async with engine.begin() as connection:
            await connection.execute(insert(events), rows)
        leaves = [leaf_of(row["hash"]) for row in rows]
        await upgrade(engine, "0006")
        assert await node_rows(engine) == all_subtrees(leaves)
        await upgrade(engine, "0007")
        assert await node_rows(engine) == all_subtrees(leaves, LOWEST_KEPT)
        await upgrade(engine)
        await check_tree(engine, leaves)
        assert await guard_problems(engine) == []  # the events table is guarded again
        await downgrade(engine, "0007")
        assert await node_rows(engine) == all_subtrees(leaves, LOWEST_KEPT)
        assert await guard_problems(engine) == []
        await downgrade(engine, "0006")
        assert await node_rows(engine) == all_subtrees(leaves)
        await upgrade(engine)
        await check_tree(engine, leaves)
        assert await guard_problems(engine) == []
    finally:
        await engine.dispose()


_nodes = sa.table(
    "merkle_nodes",
    sa.column("level", sa.SmallInteger),
    sa.column("idx", sa.BigInteger),
    sa.column("hash", sa.LargeBinary),
)


async def node_rows(engine: AsyncEngine) -> dict[Key, bytes]:
    """The rows of the node table revisions 0006 and 0007 keep the tree in."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(_nodes.c.level, _nodes.c.idx, _nodes.c.hash))
        return {(level, idx): bytes(value) for level, idx, value in rows}


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


async def test_event_ids_become_unique_by_an_index_with_every_row_kept(
    database_url: str,
) -> None:
    """A log at revision 0008 (event_id unique by a constraint of the table) keeps every row
    and column as it was through 0009 and back, its guards, its Merkle tree, and refuses a
    second event with an id it holds at each revision."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0008")
        written = chained_events(40)
        held = kept_subtrees(Frontier(), [event.hash for event in written])
        rows = [
            {**row_values(event), "subtrees": subtrees}
            for event, subtrees in zip(written, held, strict=True)
        ]
        async with engine.begin() as connection:
            await connection.execute(insert(events), rows)
        before = await stored_rows(engine)
        await upgrade(engine)
        for revision in ("0009", "0008", "0009"):
            assert await stored_rows(engine) == before, revision
            assert await guard_problems(engine) == [], revision
            await check_tree(engine, [leaf_of(event.hash) for event in written])
            twice = {**row_values(chained_events(41)[-1]), "event_id": written[3].event_id}
            with pytest.raises(sa.exc.IntegrityError):
                async with engine.begin() as connection:
                    await connection.execute(insert(events), [twice])
            if revision == "0009":
                await downgrade(engine, "0008")
            else:
                await upgrade(engine)
    finally:
        await engine.dispose()


async def stored_rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [
            tuple(row)
            for row in await connection.execute(select(events).order_by(events.c.position))
        ]
