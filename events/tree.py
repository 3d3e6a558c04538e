"""The Merkle tree over the log (RFC 9162), kept in the log's own rows.

Leaf i is event i's chain hash: leaf hash = SHA-256(0x00 ‖ bytes.fromhex(hash)). The tree's
complete subtrees of 2**LOWEST_KEPT leaves and more are kept in the events table itself: the
event that completes a subtree (its last leaf) holds its hash in its `subtrees` column, so
an append writes them in the very statement that writes its events (one event in 16 holds
any). A proof or a root reads, in one statement, the O(log n) kept subtrees it folds from
(by the positions of the events that hold them: the primary key) and the chain hashes of
the at most two runs of fewer than 2**LOWEST_KEPT events under the smaller ones, which it
hashes again; nothing rereads the log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.backends import backend_of
from events.chain import GENESIS_HASH
from events.errors import StoreError
from events.kept import LOWEST_KEPT, held, holder, kept_subtrees
from events.merkle import (
    Frontier,
    Key,
    Range,
    consistency_ranges,
    frontier_keys,
    inclusion_ranges,
    leaf_hash,
    leaf_spans,
    lower_subtrees,
    needed,
    range_hash,
)
from events.model import Head
from events.tables import events

LARGEST_LOG = 2**63 - 1  # positions are 64-bit: no tree is asked of beyond it


class TreeIncomplete(StoreError):
    """The tree cannot be made: the log's events lack subtrees they should hold, or the log
    lacks events under the smaller ones."""


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
    ) -> list[bytes | None]:
        """What the `subtrees` column of each of the events with these chain hashes,
        following `head`, holds (`kept_subtrees`)."""
        frontier = await self._frontier(connection, head)
        column = kept_subtrees(frontier, hashes)
        self._known = (frontier.size, hashes[-1], frontier)
        return column

    async def _frontier(self, connection: AsyncConnection, head: Head) -> Frontier:
        known = self._known
        self._known = None
        if known is not None and known[:2] == (head.position, head.hash):
            return known[2]
        return await load_frontier(connection, head.position)


async def read_subtrees(
    connection: AsyncConnection, keys: Iterable[Key]
) -> tuple[int, dict[Key, bytes]]:
    """The log's head position, and the hashes of those of these complete subtrees the log
    holds: the kept ones from the `subtrees` column of the events that hold them, the
    smaller ones hashed from the events' chain hashes, all read in one statement."""
    wanted = sorted(set(keys))
    kept = [key for key in wanted if key[0] >= LOWEST_KEPT]
    holders = sorted({holder(key) for key in kept})
    found = await backend_of(connection).tree_rows(
        connection, holders, leaf_spans(wanted, LOWEST_KEPT)
    )
    columns = dict(found.subtrees)
    nodes = {key: value for key in kept if (value := held(key, columns.get(holder(key))))}
    leaves = {position - 1: _leaf_at(position, value) for position, value in found.hashes}
    nodes.update(lower_subtrees(wanted, LOWEST_KEPT, leaves))
    return found.head, nodes


def _leaf_at(position: int, chain_hash: str) -> bytes:
    try:
        return leaf_of(chain_hash)
    except ValueError:
        raise TreeIncomplete(
            f"event {position}'s chain hash {chain_hash!r} is not hexadecimal"
        ) from None


def complete(nodes: dict[Key, bytes], keys: Iterable[Key]) -> dict[Key, bytes]:
    """`nodes`, refused (TreeIncomplete) if any of these subtrees is not among them."""
    missing = sorted(set(keys) - nodes.keys())
    if missing:
        level, idx = missing[0]
        first = idx * (1 << level) + 1
        last = first + (1 << level) - 1
        if level < LOWEST_KEPT:
            raise TreeIncomplete(f"the log lacks events among positions {first}-{last}")
        raise TreeIncomplete(
            f"the Merkle tree lacks the subtree over positions {first}-{last}"
            f" (level {level}, index {idx}): event {last} does not hold it, so the log was"
            " altered since it wrote it"
        )
    return nodes


async def load_nodes(connection: AsyncConnection, keys: Iterable[Key]) -> dict[Key, bytes]:
    """The hashes of these complete subtrees, in one query; refused if any is missing."""
    wanted = set(keys)
    _, nodes = await read_subtrees(connection, wanted)
    return complete(nodes, wanted)


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
    asked = tree_size <= LARGEST_LOG and position_problem(position, tree_size) is None
    ranges = inclusion_ranges(position - 1, tree_size) if asked else []
    async with engine.connect() as connection:
        head, nodes = await read_subtrees(connection, needed(ranges))
    problem = size_problem(tree_size, head) or position_problem(position, tree_size)
    if problem is not None:
        raise NoSuchProof(problem)
    return _fold(ranges, nodes)


async def prove_consistency(engine: AsyncEngine, first: int, second: int) -> list[bytes]:
    """The proof that the tree of the log's first `second` events extends the tree of its
    first `first`; refused (NoSuchProof) outside the log."""
    asked = second <= LARGEST_LOG and size_problem(first, second) is None
    ranges = consistency_ranges(first, second) if asked else []
    async with engine.connect() as connection:
        head, nodes = await read_subtrees(connection, needed(ranges))
    problem = size_problem(second, head) or size_problem(first, second)
    if problem is not None:
        raise NoSuchProof(problem)
    return _fold(ranges, nodes)


async def _proof(connection: AsyncConnection, ranges: list[Range]) -> list[bytes]:
    _, nodes = await read_subtrees(connection, needed(ranges))
    return _fold(ranges, nodes)


def _fold(ranges: list[Range], nodes: dict[Key, bytes]) -> list[bytes]:
    complete(nodes, needed(ranges))
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
