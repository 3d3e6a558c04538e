"""Which of the Merkle tree's subtrees the log keeps, and which event's `subtrees` column
holds each: what an append computes as it writes its events (nothing here reads the
database, so an import's check can grow the tree in a process of its own)."""

from __future__ import annotations

from collections.abc import Iterable

from events.merkle import Frontier, Key, leaf_hashes

LOWEST_KEPT = 4
"""The log keeps complete subtrees of 2**4 = 16 leaves and more: one event in 16 holds any
(32 bytes a subtree), where keeping them all took a hash an event; a proof rereads at most
2 * 16 chain hashes for the smaller ones (bench/README.md has the costs of both)."""
HASH_SIZE = 32


def kept_subtrees(frontier: Frontier, chain_hashes: Iterable[str]) -> list[bytes | None]:
    """Grow `frontier` by the events with these chain hashes; for each event, what its
    `subtrees` column holds: the hashes of the kept subtrees it completes, smallest first,
    joined (None for the 15 events in 16 that complete none)."""
    fromhex = bytes.fromhex
    return frontier.completing(leaf_hashes(fromhex(value) for value in chain_hashes), LOWEST_KEPT)


def holder(key: Key) -> int:
    """The position of the event whose `subtrees` column holds this kept subtree (its last
    leaf)."""
    level, idx = key
    return (idx + 1) << level


def held(key: Key, column: bytes | None) -> bytes | None:
    """The hash of subtree `key` in its holder's `subtrees` column (None if not there)."""
    start = (key[0] - LOWEST_KEPT) * HASH_SIZE
    found = column[start : start + HASH_SIZE] if column is not None else b""
    return found if len(found) == HASH_SIZE else None
