"""The Merkle tree against the Certificate Transparency test vectors and, for random sizes,
every position and every pair of sizes, against RFC 9162's recursive definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    leaf_spans,
    lower_subtrees,
    needed,
    node_hash,
    range_hash,
    root_of,
    split,
    verify_consistency,
    verify_inclusion,
)

# The inputs, roots, paths and proofs of the CT reference implementation's tests
# (certificate-transparency merkle_tree_test.cc; RFC 6962 and RFC 9162 hash alike).
INPUT_HEX = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
INPUT_HEX.append("606162636465666768696a6b6c6d6e6f")
INPUTS = [bytes.fromhex(text) for text in INPUT_HEX]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
B = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
C = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
D = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
E = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
F = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
G = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
# (0-based leaf index, tree size, audit path)
PATHS = [
    (0, 1, []),
    (0, 8, [A, B, C]),
    (5, 8, [D, E, F]),
    (2, 3, [ROOTS[2]]),
    (1, 5, [ROOTS[1], B, D]),
]
# (first size, second size, proof)
PROOFS = [(1, 1, []), (1, 8, [A, B, C]), (6, 8, [G, E, F]), (2, 5, [B, D])]

LEAVES = [leaf_hash(data) for data in INPUTS]


# --- RFC 9162 §2.1, as written: the reference the tree is checked against -------------------


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True)


# --- what the store computes: proofs folded from complete subtrees -------------------------


def complete_subtrees(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes = Frontier().extend(leaves)
    return {(node.level, node.idx): node.hash for node in nodes}


def inclusion_proof(index: int, size: int, leaves: list[bytes]) -> list[bytes]:
    nodes = complete_subtrees(leaves[:size])
    return [range_hash(lo, hi, nodes) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(first: int, second: int, leaves: list[bytes]) -> list[bytes]:
    nodes = complete_subtrees(leaves[:second])
    return [range_hash(lo, hi, nodes) for lo, hi in consistency_ranges(first, second)]


def hexes(hashes: list[bytes]) -> list[str]:
    return [value.hex() for value in hashes]


def test_the_empty_tree_has_the_hash_of_nothing() -> None:
    assert root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_match_the_ct_vectors(size: int) -> None:
    assert root_of(LEAVES[:size]).hex() == ROOTS[size]
    assert mth(LEAVES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), PATHS)
def test_inclusion_proofs_match_the_ct_vectors(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, LEAVES)
    assert hexes(proof) == expected
    assert verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "expected"), PROOFS)
def test_consistency_proofs_match_the_ct_vectors(
    first: int, second: int, expected: list[str]
) -> None:
    proof = consistency_proof(first, second, LEAVES)
    assert hexes(proof) == expected
    roots = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, *roots, proof)


def test_a_proof_names_only_a_few_subtrees() -> None:
    size = 1_000_000
    keys = needed(inclusion_ranges(123_456, size))
    assert len(keys) <= 2 * size.bit_length()


def random_leaves(count: int, seed: int) -> list[bytes]:
    return [leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(8, "big")) for i in range(count)]


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 70), seed=st.integers(0, 2**32))
def test_every_position_of_a_random_tree(size: int, seed: int) -> None:
    leaves = random_leaves(size, seed)
    root = mth(leaves)
    assert root_of(leaves) == root
    for index in range(size):
        proof = inclusion_proof(index, size, leaves)
        assert proof == path(index, leaves)
        assert verify_inclusion(index, size, leaves[index], proof, root)
        assert not verify_inclusion(index, size, leaf_hash(b"other"), proof, root)
        if size > 1:
            assert not verify_inclusion((index + 1) % size, size, leaves[index], proof, root)
            assert not verify_inclusion(index, size, leaves[index], proof[:-1], root)
            assert not verify_inclusion(index, size, leaves[index], [*proof, root], root)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_every_pair_of_sizes(size: int, seed: int) -> None:
    leaves = random_leaves(size, seed)
    roots = [mth(leaves[:n]) for n in range(size + 1)]
    for second in range(1, size + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, leaves)
            assert proof == consistency(first, leaves[:second])
            assert verify_consistency(first, second, roots[first], roots[second], proof)
            if first < second:
                assert not verify_consistency(first, second, roots[first], roots[first], proof)
                assert not verify_consistency(first, second, roots[second], roots[second], proof)
                assert not verify_consistency(first, second, roots[first], roots[second], [])
                bent = [*proof[:-1], leaf_hash(b"other")]
                assert not verify_consistency(first, second, roots[first], roots[second], bent)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 20), min_size=1, max_size=8), seed=st.integers(0, 2**32))
def test_a_frontier_grown_in_batches_gives_every_complete_subtree_once(
    sizes: list[int], seed: int
) -> None:
    leaves = random_leaves(sum(sizes), seed)
    frontier, nodes, start = Frontier(), [], 0
    for count in sizes:
        nodes += frontier.extend(leaves[start : start + count])
        start += count
        assert frontier.root() == mth(leaves[:start])
    keys = [(node.level, node.idx) for node in nodes]
    assert len(keys) == len(set(keys))
    assert len(keys) == 2 * start - bin(start).count("1")
    for node in nodes:
        width = 1 << node.level
        assert node.hash == mth(leaves[node.idx * width : (node.idx + 1) * width])
    upper = Frontier().extend(leaves, 3)
    assert upper == [node for node in nodes if node.level >= 3]


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8),
    lowest=st.integers(2, 5),
    seed=st.integers(0, 2**32),
)
def test_completing_gives_each_leaf_the_kept_subtrees_append_gives(
    sizes: list[int], lowest: int, seed: int
) -> None:
    """The append's path (`completing`, batch by batch) against `append`, leaf by leaf."""
    leaves = random_leaves(sum(sizes), seed)
    fast, slow, start, found = Frontier(), Frontier(), 0, []
    for count in sizes:
        found += fast.completing(leaves[start : start + count], lowest)
        start += count
    expected = [b"".join(node.hash for node in slow.append(leaf, lowest)) for leaf in leaves]
    assert found == [value or None for value in expected]
    assert fast == slow
    with pytest.raises(ValueError, match="level 2 and above"):
        Frontier().completing(leaves, 1)


def kept_and_reread(
    leaves: list[bytes], keys: set[tuple[int, int]], lowest: int
) -> dict[tuple[int, int], bytes]:
    """The subtrees among `keys` as a store keeping levels `lowest` and up gives them: the
    kept ones as written, the lower ones hashed from the runs of leaves `leaf_spans` names."""
    kept = {(n.level, n.idx): n.hash for n in Frontier().extend(leaves, lowest)}
    assert all(level >= lowest for level, _ in kept)
    read = {i: leaves[i] for lo, hi in leaf_spans(keys, lowest) for i in range(lo, hi)}
    return {**kept, **lower_subtrees(keys, lowest, read)}


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 80), lowest=st.integers(0, 5), seed=st.integers(0, 2**32))
def test_proofs_from_the_larger_subtrees_and_a_few_leaves(
    size: int, lowest: int, seed: int
) -> None:
    leaves = random_leaves(size, seed)
    for index in range(size):
        ranges = inclusion_ranges(index, size)
        keys = needed(ranges)
        spans = leaf_spans(keys, lowest)
        assert len(spans) <= 2
        assert all(hi - lo <= 1 << lowest for lo, hi in spans)
        nodes = kept_and_reread(leaves, keys, lowest)
        assert [range_hash(lo, hi, nodes) for lo, hi in ranges] == path(index, leaves)
    for first in range(1, size + 1):
        ranges = consistency_ranges(first, size)
        keys = needed(ranges)
        assert len(leaf_spans(keys, lowest)) <= 2
        nodes = kept_and_reread(leaves, keys, lowest)
        assert [range_hash(lo, hi, nodes) for lo, hi in ranges] == consistency(first, leaves)


def test_a_subtree_missing_a_leaf_is_left_out() -> None:
    assert lower_subtrees([(1, 0), (1, 1)], 4, {0: LEAVES[0], 1: LEAVES[1], 2: LEAVES[2]}) == {
        (1, 0): node_hash(LEAVES[0], LEAVES[1])
    }


def test_proofs_outside_the_tree_are_refused() -> None:
    with pytest.raises(ValueError, match="not in a tree of 3 leaves"):
        inclusion_ranges(3, 3)
    with pytest.raises(ValueError, match="no consistency proof from 4 leaves to 3"):
        consistency_ranges(4, 3)
    assert not verify_inclusion(3, 3, LEAVES[0], [], bytes.fromhex(ROOTS[3]))
    assert not verify_consistency(4, 3, EMPTY_ROOT, EMPTY_ROOT, [])
