#!/usr/bin/env python3
"""Check a Coop record without Coop: one file, the standard library and `cryptography`.

An auditor who does not trust the service that keeps the record runs this on what it hands
out: an export (`coop export`), a checkpoint (`coop checkpoint`) and the public key it was
signed with, and an inclusion proof for one event (`coop proof POSITION --tree-size N`).

    python3 verify_offline.py --export log.ndjson --checkpoint cp.json --public-key key.pub.pem
    python3 verify_offline.py --event event.json --proof proof.json \\
        --checkpoint cp.json --public-key key.pub.pem
    python3 verify_offline.py --consistency proof.json --checkpoint new.json \\
        --old-checkpoint old.json --public-key key.pub.pem

What is checked, each from first principles:
- the export: every event's hash recomputed from its content and the hash before it, the
  positions gap-free from 1, record time never going back, and the trailer (count, last
  hash, Merkle root);
- a checkpoint: its Ed25519 signature over "coop-checkpoint/v1\\n" + tree_size + "\\n" +
  root_hash + "\\n" + head_hash + "\\n" + timestamp + "\\n" under the public key (whose id
  is the first 16 hex characters of SHA-256 of the raw key), and, given an export, that
  the export's first tree_size events have its head hash and Merkle root;
- an inclusion proof: the event's hash recomputed, and its audit path leading to the
  checkpoint's root (RFC 9162 §2.1.3.2);
- a consistency proof: that the newer checkpoint's tree extends the older's (§2.1.4.2).

Exit status: 0 when everything given holds, 1 when a check fails (the problem is named),
2 when the files cannot be read as asked.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
CONTEXT = "coop-checkpoint/v1"
CHECKPOINT_FIELDS = ("tree_size", "root_hash", "head_hash", "timestamp", "key_id", "signature")


class Failed(Exception):
    """A check that does not hold."""


class Unusable(Exception):
    """An input that cannot be read as asked."""


# --- the hash chain ----------------------------------------------------------------------


def _float_text(value: float) -> str:
    """A float as Coop's canonical JSON (msgspec) writes it: Python's shortest repr, but
    with exponents bare (1e16, 1.5e-7) and 10**-5 magnitudes in decimals (0.000012)."""
    mantissa, marked, exponent = repr(value).partition("e")
    if not marked:
        return mantissa
    power = int(exponent)
    if power == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{power}"


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys and UTF-8 text, as Coop hashes it."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, float):
        return _float_text(value)
    return json.dumps(value, ensure_ascii=False)


def recorded_at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["recorded_at"]).astimezone(UTC)


def event_hash(event: dict[str, Any], prev_hash: str) -> str:
    """An event's chain hash: SHA-256 of the previous hash, a newline, and the canonical JSON
    of [position, stream, version, id, type, schema version, data, metadata, record time]."""
    recorded = recorded_at(event)
    body = canonical(
        [
            event["position"],
            event["stream_id"],
            event["stream_version"],
            event["event_id"].lower(),
            event["type"],
            event["schema_version"],
            event["data"],
            event["metadata"],
            recorded.isoformat(timespec="microseconds"),
        ]
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def event_problem(event: dict[str, Any], position: int, prev_hash: str) -> str | None:
    found = event.get("position")
    if isinstance(found, int) and found < position:
        return (
            f"position {found} comes again (or out of order) after position {position - 1}:"
            f" position {position} was expected next"
        )
    if found != position:
        return f"position {position} is missing: the next event is {found}"
    if event.get("prev_hash") != prev_hash:
        return f"position {position} does not follow the hash of position {position - 1}"
    if event_hash(event, prev_hash) != event.get("hash"):
        return f"position {position} was altered: its content no longer matches its hash"
    return None


def went_back(event: dict[str, Any], position: int, before: datetime | None) -> str | None:
    """A record time before the one of the position before: a log's record time never goes
    back along its positions (what was known at a time is read by it)."""
    now = recorded_at(event)
    if before is None or before <= now:
        return None
    return (
        f"position {position} was recorded at {now.isoformat(timespec='microseconds')}, before"
        f" position {position - 1} ({before.isoformat(timespec='microseconds')}): record time"
        " never goes back along the log"
    )


# --- the Merkle tree (RFC 9162 §2.1) -----------------------------------------------------


def leaf_hash(chain_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(chain_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """Leaves appended one by one; keeps only the roots of its complete subtrees."""

    def __init__(self) -> None:
        self.size = 0
        self.subtrees: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        self.subtrees.append(leaf)
        self.size += 1
        index = self.size - 1
        while index & 1:
            right = self.subtrees.pop()
            self.subtrees.append(node_hash(self.subtrees.pop(), right))
            index >>= 1

    def root(self) -> bytes:
        if not self.subtrees:
            return hashlib.sha256(b"").digest()
        result = self.subtrees[-1]
        for left in reversed(self.subtrees[:-1]):
            result = node_hash(left, result)
        return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
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
    """RFC 9162 §2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
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


# --- inputs ------------------------------------------------------------------------------


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Unusable(f"cannot read the {what} {path}: {error.strerror}") from None
    except ValueError as error:
        raise Unusable(f"the {what} {path} is not JSON: {error}") from None


def read_checkpoint(path: Path) -> dict[str, Any]:
    value = read_json(path, "checkpoint")
    types = {"tree_size": int}
    if not isinstance(value, dict) or any(
        not isinstance(value.get(name), types.get(name, str)) for name in CHECKPOINT_FIELDS
    ):
        raise Unusable(f"{path} is not a checkpoint: it needs {', '.join(CHECKPOINT_FIELDS)}")
    return value


def read_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise Unusable(f"cannot read the public key {path}: {error.strerror}") from None
    except ValueError as error:
        raise Unusable(f"{path} is not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Unusable(f"{path} is not an Ed25519 public key")
    return key


def hashes_of(values: Any, what: str) -> list[bytes]:
    try:
        return [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        raise Unusable(f"the {what} is not a list of hex hashes") from None


def export_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as error:
                    raise Failed(f"export line {number} is not JSON: {error}") from None
                if not isinstance(value, dict):
                    raise Failed(f"export line {number} is not a JSON object")
                yield number, value
    except OSError as error:
        raise Unusable(f"cannot read the export {path}: {error.strerror}") from None


# --- the checks --------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def check_signature(checkpoint: dict[str, Any], public_key: Ed25519PublicKey, label: str) -> str:
    expected = key_id(public_key)
    if checkpoint["key_id"] != expected:
        raise Failed(
            f"{label} names key {checkpoint['key_id']}, but the public key is {expected}:"
            " it was signed with another key"
        )
    message = (
        f"{CONTEXT}\n{checkpoint['tree_size']}\n{checkpoint['root_hash']}\n"
        f"{checkpoint['head_hash']}\n{checkpoint['timestamp']}\n"
    ).encode()
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), message)
    except (binascii.Error, ValueError, InvalidSignature):
        raise Failed(
            f"{label}'s signature does not verify under key {expected}: it was altered or"
            " signed with another key"
        ) from None
    return f"{label} is signed by key {expected} (tree size {checkpoint['tree_size']})"


def check_export(path: Path, checkpoint: dict[str, Any] | None) -> list[str]:
    """The chain, the trailer, and (given one) the checkpoint against the export."""
    tree, prev_hash, position = Tree(), GENESIS_HASH, 0
    recorded: datetime | None = None  # the record time of `position`
    at_checkpoint: tuple[str, str] | None = None
    wanted = checkpoint["tree_size"] if checkpoint else None
    trailer: dict[str, Any] | None = None
    if wanted == 0:
        at_checkpoint = (tree.root().hex(), GENESIS_HASH)
    for number, value in export_lines(path):
        if trailer is not None:
            raise Failed(f"export line {number} follows the trailer, which must end the file")
        if "trailer" in value:
            trailer = value["trailer"]
            continue
        if position == 0 and value.get("position") != 1:
            raise Unusable(
                f"the export starts at position {value.get('position')}: check a whole export"
                " (made without --after)"
            )
        problem = event_problem(value, position + 1, prev_hash) or went_back(
            value, position + 1, recorded
        )
        if problem is not None:
            raise Failed(f"export line {number}: {problem}")
        position, prev_hash = position + 1, value["hash"]
        recorded = recorded_at(value)
        tree.append(leaf_hash(prev_hash))
        if position == wanted:
            at_checkpoint = (tree.root().hex(), prev_hash)
    found = [f"the export's {position} events form an unbroken chain"]
    found.append(check_trailer(trailer, position, prev_hash, tree.root().hex()))
    if checkpoint is not None:
        found.append(check_against(checkpoint, position, at_checkpoint))
    return found


def check_trailer(trailer: Any, count: int, head_hash: str, root: str) -> str:
    if not isinstance(trailer, dict):
        raise Failed("the export has no trailer line: it was cut short (or is not an export)")
    if trailer.get("count") != count:
        raise Failed(
            f"the trailer counts {trailer.get('count')} events but the export holds {count}:"
            " events were cut from it (or added)"
        )
    if trailer.get("head_hash") != head_hash:
        raise Failed(f"the trailer's head_hash is not the hash of the last event ({head_hash})")
    if trailer.get("root_hash") != root:
        raise Failed(f"the trailer's root_hash is not the Merkle root of the events ({root})")
    return f"the trailer matches: {count} events, head {head_hash}, root {root}"


def check_against(
    checkpoint: dict[str, Any], count: int, at_checkpoint: tuple[str, str] | None
) -> str:
    size = checkpoint["tree_size"]
    if at_checkpoint is None:
        raise Failed(
            f"the export holds {count} events, fewer than the checkpoint's {size}:"
            f" events {count + 1}-{size} were cut from the log"
        )
    root, head_hash = at_checkpoint
    if head_hash != checkpoint["head_hash"]:
        raise Failed(
            f"event {size} has the hash {head_hash}, not the checkpoint's head"
            f" {checkpoint['head_hash']}: the history was rewritten"
        )
    if root != checkpoint["root_hash"]:
        raise Failed(
            f"the tree of the export's first {size} events has the root {root}, not the"
            f" checkpoint's {checkpoint['root_hash']}: the history was rewritten"
        )
    return f"the export's first {size} events have the checkpoint's root {root}"


def check_inclusion(event_path: Path, proof_path: Path, checkpoint: dict[str, Any]) -> str:
    """One event (an export line) is in the checkpoint's tree, by its audit path."""
    event = read_json(event_path, "event")
    proof = read_json(proof_path, "inclusion proof")
    if not isinstance(event, dict) or not isinstance(proof, dict):
        raise Unusable("the event and the proof must be JSON objects")
    position = event.get("position")
    if not isinstance(position, int) or event_hash(event, event.get("prev_hash", "")) != event.get(
        "hash"
    ):
        raise Failed(f"event {position} was altered: its content no longer matches its hash")
    if proof.get("leaf_index") != position - 1:
        raise Failed(f"the proof is for leaf {proof.get('leaf_index')}, not event {position}")
    if proof.get("tree_size") != checkpoint["tree_size"]:
        raise Failed(
            f"the proof is for a tree of {proof.get('tree_size')} events, the checkpoint's"
            f" has {checkpoint['tree_size']}: ask for --tree-size {checkpoint['tree_size']}"
        )
    path = hashes_of(proof.get("audit_path"), "audit path")
    root = bytes.fromhex(checkpoint["root_hash"])
    if not verify_inclusion(
        position - 1, checkpoint["tree_size"], leaf_hash(event["hash"]), path, root
    ):
        raise Failed(f"the audit path does not lead from event {position} to the checkpoint's root")
    return f"event {position} is in the checkpoint's tree of {checkpoint['tree_size']} events"


def check_consistency(proof_path: Path, old: dict[str, Any], new: dict[str, Any]) -> str:
    proof = read_json(proof_path, "consistency proof")
    if not isinstance(proof, dict):
        raise Unusable("the consistency proof must be a JSON object")
    first, second = old["tree_size"], new["tree_size"]
    if (proof.get("first_size"), proof.get("second_size")) != (first, second):
        raise Failed(
            f"the proof is from {proof.get('first_size')} to {proof.get('second_size')} events,"
            f" the checkpoints are of {first} and {second}"
        )
    path = hashes_of(proof.get("path"), "consistency path")
    roots = bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"])
    if not verify_consistency(first, second, *roots, path):
        raise Failed(
            f"the tree of {second} events does not extend the tree of {first}: the history"
            " between the checkpoints changed"
        )
    return f"the tree of {second} events extends the tree of {first}"


def run(args: argparse.Namespace) -> list[str]:
    found: list[str] = []
    checkpoint = read_checkpoint(args.checkpoint) if args.checkpoint else None
    public_key = read_public_key(args.public_key) if args.public_key else None
    if checkpoint is not None:
        if public_key is None:
            raise Unusable("a checkpoint is checked with --public-key FILE, the key it names")
        found.append(check_signature(checkpoint, public_key, "the checkpoint"))
    if args.export:
        found += check_export(args.export, checkpoint)
    if args.event or args.proof:
        if not (args.event and args.proof and checkpoint):
            raise Unusable("an inclusion proof needs --event, --proof and --checkpoint")
        found.append(check_inclusion(args.event, args.proof, checkpoint))
    if args.consistency or args.old_checkpoint:
        if not (args.consistency and args.old_checkpoint and checkpoint and public_key):
            raise Unusable(
                "a consistency proof needs --consistency, --old-checkpoint, --checkpoint"
                " and --public-key"
            )
        old = read_checkpoint(args.old_checkpoint)
        found.append(check_signature(old, public_key, "the old checkpoint"))
        found.append(check_consistency(args.consistency, old, checkpoint))
    if not found:
        raise Unusable("nothing to check: give --export, --checkpoint, or both (see --help)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a Coop export, checkpoint and proofs without Coop."
    )
    parser.add_argument("--export", type=Path, help="an export (coop export), whole")
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint (coop checkpoint)")
    parser.add_argument("--public-key", type=Path, help="the checkpoint key's public PEM")
    parser.add_argument("--event", type=Path, help="one event: its line of an export")
    parser.add_argument("--proof", type=Path, help="its inclusion proof (coop proof)")
    parser.add_argument("--consistency", type=Path, help="a consistency proof")
    parser.add_argument("--old-checkpoint", type=Path, help="the earlier checkpoint")
    args = parser.parse_args(argv)
    try:
        found = run(args)
    except Unusable as problem:
        print(f"verify_offline: {problem}", file=sys.stderr)
        return 2
    except Failed as problem:
        print(f"FAILED: {problem}")
        return 1
    for line in found:
        print(f"ok: {line}")
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
