"""The Merkle tree over the log (RFC 9162), kept as rows of its complete subtrees.

Leaf i is event i's chain hash: leaf hash = SHA-256(0x00 ‖ bytes.fromhex(hash)). Each append
writes, in its own transaction and statement, the subtrees its events complete (about two
rows an event); a proof or a root then reads the O(log n) subtrees it folds from in one
query, and nothing rereads the log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.backends import backend_of
from events.chain import GENESIS_HASH
from events.errors import StoreError
from events.merkle import (
    Frontier,
    Key,
    Node,
    consistency_ranges,
    frontier_keys,
    inclusion_ranges,
    leaf_hash,
    needed,
    range_hash,
)
from events.model import Head
from events.tables import events


class TreeIncomplete(StoreError):
    """The node table lacks subtrees the log's events should have made."""


class NoSuchProof(StoreError, ValueError):
    """A proof asked of a tree the log does not hold, or of a position outside its tree."""


def leaf_of(chain_hash: str) -> bytes:
    """The leaf hash of an event, from its chain hash (hex)."""
    return leaf_hash(bytes.fromhex(chain_hash))


class LogTree:
    """Grows the tree as an append writes events. The frontier (the log's complete
    subtrees) is kept between appends, and trusted only while the head it was made for is
    still the head: another writer's append, or an append that rolled back, makes it be
    read again."""

    def __init__(self) -> None:
        self._known: tuple[int, str, Frontier] | None = None

    async def grow(
        self, connection: AsyncConnection, head: Head, hashes: Sequence[str]
    ) -> list[Node]:
        """The subtrees the events with these chain hashes, following `head`, complete:
        rows of merkle_nodes (level, idx, hash)."""
        frontier = await self._frontier(connection, head)
        nodes = frontier.extend(leaf_of(value) for value in hashes)
        self._known = (frontier.size, hashes[-1], frontier)
        return nodes

    async def _frontier(self, connection: AsyncConnection, head: Head) -> Frontier:
        known = self._known
        self._known = None
        if known is not None and known[:2] == (head.position, head.hash):
            return known[2]
        return await load_frontier(connection, head.position)


async def load_nodes(connection: AsyncConnection, keys: Iterable[Key]) -> dict[Key, bytes]:
    """The hashes of these complete subtrees, in one query; refused if any is missing."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await backend_of(connection).merkle_nodes(connection, wanted)
    found = {(level, idx): value for level, idx, value in rows}
    missing = [key for key in wanted if key not in found]
    if missing:
        level, idx = missing[0]
        first = idx * (1 << level) + 1
        raise TreeIncomplete(
            f"the Merkle tree lacks the subtree over positions {first}-{first + (1 << level) - 1}"
            f" (level {level}, index {idx}): the node table was altered since the log wrote it"
        )
    return found


async def load_frontier(connection: AsyncConnection, size: int) -> Frontier:
    keys = frontier_keys(size)
    nodes = await load_nodes(connection, keys)
    return Frontier(size, [nodes[key] for key in keys])


async def root_at(connection: AsyncConnection, size: int) -> bytes:
    """The root of the tree of the log's first `size` events."""
    return (await load_frontier(connection, size)).root()


async def tree_head(connection: AsyncConnection, size: int) -> tuple[bytes, str]:
    """The root of the tree of the first `size` events and event `size`'s chain hash."""
    root = await root_at(connection, size)
    if size == 0:
        return root, GENESIS_HASH
    query = select(events.c.hash).where(events.c.position == size)
    return root, str(await connection.scalar(query))


async def inclusion_proof(connection: AsyncConnection, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` (0-based) in the tree of `size` leaves."""
    return await _proof(connection, inclusion_ranges(index, size))


async def consistency_proof(connection: AsyncConnection, first: int, second: int) -> list[bytes]:
    """The proof that the tree of `second` leaves extends the tree of `first`."""
    return await _proof(connection, consistency_ranges(first, second))


async def prove_inclusion(engine: AsyncEngine, position: int, tree_size: int) -> list[bytes]:
    """The audit path of the event at `position` (1-based) in the tree of the log's first
    `tree_size` events; refused (NoSuchProof) outside the log."""
    async with engine.connect() as connection:
        head = await _head_position(connection)
        problem = size_problem(tree_size, head) or position_problem(position, tree_size)
        if problem is not None:
            raise NoSuchProof(problem)
        return await inclusion_proof(connection, position - 1, tree_size)


async def prove_consistency(engine: AsyncEngine, first: int, second: int) -> list[bytes]:
    """The proof that the tree of the log's first `second` events extends the tree of its
    first `first`; refused (NoSuchProof) outside the log."""
    async with engine.connect() as connection:
        head = await _head_position(connection)
        problem = size_problem(second, head) or size_problem(first, second)
        if problem is not None:
            raise NoSuchProof(problem)
        return await consistency_proof(connection, first, second)


async def _head_position(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.max(events.c.position))) or 0)


async def _proof(connection: AsyncConnection, ranges: list[tuple[int, int]]) -> list[bytes]:
    nodes = await load_nodes(connection, needed(ranges))
    return [range_hash(lo, hi, nodes) for lo, hi in ranges]


async def chain_hashes(
    engine: AsyncEngine, *, after: int = 0, until: int | None = None, page: int = 10_000
) -> AsyncIterator[tuple[int, str]]:
    """(position, chain hash) of the log's events in order, read from the log itself."""
    while True:
        query = select(events.c.position, events.c.hash).where(events.c.position > after)
        if until is not None:
            query = query.where(events.c.position <= until)
        query = query.order_by(events.c.position).limit(page)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        for position, value in rows:
            yield position, value
        if len(rows) < page:
            return
        after = rows[-1][0]


async def log_roots(engine: AsyncEngine, sizes: Iterable[int]) -> dict[int, tuple[bytes, str]]:
    """For each size the log reaches, the root of the tree of its first `size` events and the
    chain hash of event `size`, computed from the log's own hashes (one pass, no node read)."""
    wanted = sorted(set(sizes))
    found: dict[int, tuple[bytes, str]] = {}
    if 0 in wanted:
        found[0] = (Frontier().root(), GENESIS_HASH)
    frontier = Frontier()
    targets = iter(size for size in wanted if size > 0)
    target = next(targets, None)
    if target is None:
        return found
    async for position, value in chain_hashes(engine, until=wanted[-1]):
        frontier.append(leaf_of(value))
        if position == target:
            found[position] = (frontier.root(), value)
            target = next(targets, None)
            if target is None:
                break
    return found


def size_problem(tree_size: int, head: int) -> str | None:
    """Why there is no tree of `tree_size` events in a log whose head is `head`."""
    if tree_size < 1:
        return f"a tree size is at least 1, not {tree_size}"
    if tree_size > head:
        return f"the log holds {head} events; it has no tree of {tree_size}"
    return None


def position_problem(position: int, tree_size: int) -> str | None:
    """Why `position` is not a leaf of the tree of `tree_size` events."""
    if not 1 <= position <= tree_size:
        return f"position {position} is not in the tree of {tree_size} events (1-{tree_size})"
    return None
