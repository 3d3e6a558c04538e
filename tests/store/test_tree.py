"""The tree as the store keeps it (the larger complete subtrees in the events' rows, the
smaller ones hashed again from the events' own hashes) gives RFC 9162's roots and proofs for every size,
every position and every pair of sizes, on every engine."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.merkle import Frontier
from events.store import EventStore
from events.tables import events
from events.tree import (
    LOWEST_KEPT,
    NoSuchProof,
    holder,
    leaf_of,
    prove_consistency,
    prove_inclusion,
    root_at,
)
from tests.store.kinds import ThingNamed, test_events
from tests.store.test_merkle import consistency, mth, path

# Batches that end inside, on and across the 16-leaf blocks the log keeps.
BATCHES = [1, 2, 13, 16, 1, 31, 5, 17, 3, 1]


async def chain_leaves(engine: AsyncEngine) -> list[bytes]:
    async with engine.connect() as connection:
        hashes = await connection.execute(select(events.c.hash).order_by(events.c.position))
        return [leaf_of(value) for value in hashes.scalars()]


@pytest.fixture
async def leaves(engine: AsyncEngine, store: EventStore) -> list[bytes]:
    """A log of 90 events appended in BATCHES by two stores in turn, so that each must read
    the tree's frontier back from the database where the other left it."""
    other = EventStore(engine, test_events)
    for number, count in enumerate(BATCHES):
        writer = store if number % 2 else other
        await writer.append("thing:a", [ThingNamed(f"n{number}", []) for _ in range(count)])
    return await chain_leaves(engine)


async def test_each_larger_subtree_is_held_by_the_event_that_completes_it(
    engine: AsyncEngine, leaves: list[bytes]
) -> None:
    async with engine.connect() as connection:
        query = select(events.c.position, events.c.subtrees).where(events.c.subtrees.is_not(None))
        held = {position: bytes(value) for position, value in await connection.execute(query)}
        count = await connection.scalar(select(func.count()).select_from(events))
    expected: dict[int, bytes] = {}
    for node in Frontier().extend(leaves, LOWEST_KEPT):
        position = holder((node.level, node.idx))
        expected[position] = expected.get(position, b"") + node.hash
    assert held == expected
    assert len(held) == count // 2**LOWEST_KEPT


async def test_every_root(engine: AsyncEngine, leaves: list[bytes]) -> None:
    async with engine.connect() as connection:
        for size in range(1, len(leaves) + 1):
            assert await root_at(connection, size) == mth(leaves[:size]), size


async def test_every_position_of_trees_of_assorted_sizes(
    engine: AsyncEngine, leaves: list[bytes]
) -> None:
    for size in (1, 15, 16, 17, 33, 64, 79, len(leaves)):
        for position in range(1, size + 1):
            proof = await prove_inclusion(engine, position, size)
            assert proof == path(position - 1, leaves[:size]), (position, size)


async def test_every_pair_of_sizes(engine: AsyncEngine, leaves: list[bytes]) -> None:
    pairs = [(f, s) for s in range(1, 41) for f in range(1, s + 1)]
    pairs += [(f, len(leaves)) for f in range(1, len(leaves) + 1)]
    for first, second in pairs:
        proof = await prove_consistency(engine, first, second)
        assert proof == consistency(first, leaves[:second]), (first, second)


async def test_proofs_beyond_the_log_are_refused(engine: AsyncEngine, leaves: list[bytes]) -> None:
    size = len(leaves)
    with pytest.raises(NoSuchProof, match=f"the log holds {size} events; it has no tree of"):
        await prove_inclusion(engine, 1, size + 1)
    with pytest.raises(NoSuchProof, match=f"it has no tree of {2**70}"):
        await prove_inclusion(engine, 1, 2**70)
    with pytest.raises(NoSuchProof, match=f"it has no tree of {size + 20}"):
        await prove_consistency(engine, size, size + 20)
