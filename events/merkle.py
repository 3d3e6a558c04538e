"""Merkle tree hashes, inclusion and consistency proofs as RFC 9162 §2.1 defines them.

Pure: the standard library only. A tree over n leaves is addressed through its complete
subtrees: the subtree at (level, index) covers leaves [index * 2**level, (index + 1) *
2**level). Every range the RFC's recursion visits, [lo, hi), is a run of such subtrees, one
per set bit of hi - lo, largest first (`subtrees`); so a proof is a list of ranges
(`inclusion_ranges`, `consistency_ranges`) whose hashes fold from complete subtrees
(`range_hash`), and a store that keeps the complete subtrees answers any proof from
O(log n) of them. A store may keep only the subtrees at some level and above: the few lower
ones a proof needs lie in at most two blocks of leaves (`leaf_spans`), from which they are
hashed again (`lower_subtrees`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Key = tuple[int, int]  # a complete subtree: (level, index)
Range = tuple[int, int]  # leaves [lo, hi)


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one leaf."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def leaf_hashes(inputs: Iterable[bytes]) -> list[bytes]:
    """The leaf hashes of many inputs, in one pass (an append's batch)."""
    sha256, prefix = hashlib.sha256, LEAF_PREFIX
    return [sha256(prefix + data).digest() for data in inputs]


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(size: int) -> int:
    """k, the largest power of two smaller than `size` (> 1): where a tree of `size` splits."""
    return 1 << ((size - 1).bit_length() - 1)


def subtrees(lo: int, hi: int) -> list[Key]:
    """The complete subtrees that make up the range [lo, hi) of a tree, largest first.

    [lo, hi) must be a range the RFC's recursion visits (lo a multiple of the smallest power
    of two not below hi - lo), as every range of a proof is.
    """
    keys = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its complete subtrees' hashes (largest first)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def range_hash(lo: int, hi: int, nodes: Mapping[Key, bytes]) -> bytes:
    """MTH of leaves [lo, hi), given the hashes of its complete subtrees."""
    return fold([nodes[key] for key in subtrees(lo, hi)])


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes make the audit path of leaf `index` in a tree of `size`
    (RFC 9162 §2.1.3.1), nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        middle = lo + split(hi - lo)
        if index < middle:
            ranges.append((middle, hi))
            hi = middle
        else:
            ranges.append((lo, middle))
            lo = middle
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes make the consistency proof between the trees of `first` and
    `second` leaves (RFC 9162 §2.1.4.1), deepest first."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} leaves to {second}")
    ranges: list[Range] = []
    lo, hi, complete = 0, second, True
    while first != hi:
        middle = lo + split(hi - lo)
        if first <= middle:
            ranges.append((middle, hi))
            hi = middle
        else:
            ranges.append((lo, middle))
            lo, complete = middle, False
    if not complete:
        ranges.append((lo, hi))
    return ranges[::-1]


def needed(ranges: Iterable[Range]) -> set[Key]:
    """Every complete subtree the hashes of `ranges` fold from."""
    return {key for lo, hi in ranges for key in subtrees(lo, hi)}


def leaf_spans(keys: Iterable[Key], lowest: int) -> list[Range]:
    """The runs of leaves to read for the hashes of the subtrees among `keys` below level
    `lowest`: in each block of 2**lowest leaves that one of them falls in, from the first leaf
    they cover there to the last (one run a block, so no run is longer than a block)."""
    runs: dict[int, Range] = {}
    for level, idx in keys:
        if level >= lowest:
            continue
        lo, hi = idx << level, (idx + 1) << level
        block = lo >> lowest
        if block in runs:
            lo, hi = min(lo, runs[block][0]), max(hi, runs[block][1])
        runs[block] = (lo, hi)
    return sorted(runs.values())


def subtree_hash(leaves: Sequence[bytes]) -> bytes:
    """The hash of a complete subtree from its leaves' hashes (a power of two of them)."""
    hashes = list(leaves)
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def lower_subtrees(
    keys: Iterable[Key], lowest: int, leaves: Mapping[int, bytes]
) -> dict[Key, bytes]:
    """The hashes of the subtrees among `keys` below level `lowest`, from the leaf hashes
    they cover (`leaves`: leaf index to leaf hash); a subtree missing a leaf is left out."""
    found = {}
    for level, idx in keys:
        if level >= lowest:
            continue
        covered = range(idx << level, (idx + 1) << level)
        if all(i in leaves for i in covered):
            found[(level, idx)] = subtree_hash([leaves[i] for i in covered])
    return found


def frontier_keys(size: int) -> list[Key]:
    """The complete subtrees that make up a whole tree of `size` leaves, largest first."""
    return subtrees(0, size)


class Node(NamedTuple):
    """A complete subtree and its hash (a tuple: written as a row as it is)."""

    level: int
    idx: int  # the subtree's index at its level ("index" is a tuple's method)
    hash: bytes


@dataclass
class Frontier:
    """The hashes of the complete subtrees of a tree of `size` leaves, largest first: all a
    tree needs to take more leaves and to give its root."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes, lowest: int = 0) -> list[Node]:
        """Add a leaf (its hash); returns the subtrees it completes at level `lowest` and
        above, smallest first (the leaf itself first, at level 0)."""
        completed = [Node(0, self.size, leaf)] if lowest == 0 else []
        self.hashes.append(leaf)
        self.size += 1
        level, index = 0, self.size - 1
        while index & 1:
            right = self.hashes.pop()
            merged = node_hash(self.hashes.pop(), right)
            self.hashes.append(merged)
            level, index = level + 1, index >> 1
            if level >= lowest:
                completed.append(Node(level, index, merged))
        return completed

    def completing(self, leaves: Sequence[bytes], lowest: int) -> list[bytes | None]:
        """Add leaves (their hashes); for each, the hashes of the subtrees it completes at
        level `lowest` (>= 2) and above, smallest first, joined (None where it completes
        none). What `append` does, with no tuple made a node: an append's path."""
        if lowest < 2:
            raise ValueError(f"completing keeps subtrees of level 2 and above, not {lowest}")
        hashes, size, sha256, prefix = self.hashes, self.size, hashlib.sha256, NODE_PREFIX
        push, pop = hashes.append, hashes.pop
        found: list[bytes | None] = [None] * len(leaves)
        for number, leaf in enumerate(leaves):
            size += 1
            if size & 1:  # an odd leaf completes nothing but itself
                push(leaf)
                continue
            node = sha256(prefix + pop() + leaf).digest()
            if size & 3:  # half of the even ones complete one pair, nothing kept
                push(node)
                continue
            kept = []
            for level in range(2, (size & -size).bit_length()):  # one a trailing zero
                node = sha256(prefix + pop() + node).digest()
                if level >= lowest:
                    kept.append(node)
            push(node)
            if kept:
                found[number] = b"".join(kept)
        self.size = size
        return found

    def extend(self, leaves: Iterable[bytes], lowest: int = 0) -> list[Node]:
        """Add leaves; returns the subtrees they complete at level `lowest` and above."""
        return [node for leaf in leaves for node in self.append(leaf, lowest)]

    def root(self) -> bytes:
        return fold(self.hashes)

    def copy(self) -> Frontier:
        return Frontier(self.size, list(self.hashes))


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root of the tree over these leaf hashes."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Does `path` prove leaf hash `leaf` at `index` in the tree of `size` with `root`?
    (RFC 9162 §2.1.3.2)"""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Does `proof` show the tree of `second` leaves (`second_root`) extends the tree of
    `first` leaves (`first_root`)? (RFC 9162 §2.1.4.2)"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # the empty tree is the start of every tree
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a subtree of the second
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_hash = second_hash = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_hash = node_hash(sibling, first_hash)
            second_hash = node_hash(sibling, second_hash)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_hash = node_hash(second_hash, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_hash == first_root and second_hash == second_root
