"""Checkpoints made and checked, and proofs given from the log's Merkle tree.

A checkpoint is checked against the log itself: its signature under the auditor's public
key, that the log still holds its `tree_size` events (a cut tail fails), and that the tree
of those events, recomputed from their chain hashes, has its root and head (a rewritten
history fails). Stored checkpoints are also checked each against the next, by consistency
proofs served from the tree's nodes.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events import tree
from events.checkpoints import Checkpoint, record_checkpoint, stored_checkpoints
from events.merkle import verify_consistency
from events.tree import consistency_proof, log_roots
from service.operations.database import Refused
from service.operations.verify import Check, Status
from service.services import Services
from service.signing import KeyProblem, load_public_key, load_signing_key, signature_problem


async def make_checkpoint(services: Services) -> Checkpoint:
    """Sign the log as it stands with COOP_SIGNING_KEY and keep the checkpoint."""
    path = services.settings.signing_key
    if path is None:
        raise Refused(
            "COOP_SIGNING_KEY is not set: name the private key file to sign with"
            " (`coop keys create --out DIR` makes one)",
            usage=True,
        )
    key = load_signing_key(Path(path))
    return await record_checkpoint(services.engine, key, lambda: datetime.now(UTC))


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    audit_path: list[str]


@dataclass(frozen=True)
class ConsistencyProof:
    first_size: int
    second_size: int
    path: list[str]


async def prove_inclusion(services: Services, position: int, tree_size: int) -> InclusionProof:
    """The audit path of the event at `position` in the tree of the first `tree_size`."""
    try:
        path = await tree.prove_inclusion(services.engine, position, tree_size)
    except tree.NoSuchProof as problem:
        raise Refused(str(problem), usage=True) from None
    return InclusionProof(position - 1, tree_size, [value.hex() for value in path])


async def prove_consistency(services: Services, first: int, second: int) -> ConsistencyProof:
    """The proof that the tree of `second` events extends the tree of `first`."""
    try:
        path = await tree.prove_consistency(services.engine, first, second)
    except tree.NoSuchProof as problem:
        raise Refused(str(problem), usage=True) from None
    return ConsistencyProof(first, second, [value.hex() for value in path])


# --- checking checkpoints ------------------------------------------------------------------

_FIELDS = {
    "tree_size": int,
    "root_hash": str,
    "head_hash": str,
    "timestamp": str,
    "key_id": str,
    "signature": str,
}


def read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint from a JSON file, as `coop checkpoint` prints it."""
    if not path.is_file():
        raise Refused(f"there is no checkpoint file {path}", usage=True)
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise Refused(f"{path} is not a checkpoint: not JSON ({error})") from None
    if not isinstance(value, dict):
        raise Refused(f"{path} is not a checkpoint: not a JSON object")
    wrong = [name for name, kind in _FIELDS.items() if not isinstance(value.get(name), kind)]
    if wrong or isinstance(value.get("tree_size"), bool):
        named = ", ".join(wrong) or "tree_size"
        raise Refused(f"{path} is not a checkpoint: {named} missing or of the wrong type")
    return Checkpoint(**{name: value[name] for name in _FIELDS})


def read_public_key(path: Path) -> Ed25519PublicKey:
    if not path.is_file():
        raise Refused(f"there is no public key file {path}", usage=True)
    try:
        return load_public_key(path)
    except KeyProblem as problem:
        raise Refused(str(problem), usage=True) from None


def service_public_key(services: Services) -> Ed25519PublicKey | None:
    """The public half of COOP_SIGNING_KEY, when it is set."""
    path = services.settings.signing_key
    return None if path is None else load_signing_key(Path(path)).public_key


async def check_checkpoint(
    services: Services, checkpoint: Checkpoint, public_key: Ed25519PublicKey
) -> list[Check]:
    """The signature, then the checkpoint against the log."""
    problem = signature_problem(checkpoint, public_key)
    signature = (
        Check("signature", Status.FAILED, problem)
        if problem
        else Check("signature", Status.OK, f"signed by key {checkpoint.key_id}")
    )
    head = (await services.store.head()).position
    roots = await log_roots(services.engine, [checkpoint.tree_size])
    found = _against_log(checkpoint, head, roots)
    if found is not None:
        cut = head + 1 if checkpoint.tree_size > head else None
        return [signature, Check("checkpoint", Status.FAILED, found, cut)]
    message = (
        f"the log's first {checkpoint.tree_size} events have the checkpoint's root"
        f" {checkpoint.root_hash} and head {checkpoint.head_hash}"
    )
    return [signature, Check("checkpoint", Status.OK, message)]


def _against_log(
    checkpoint: Checkpoint, head: int, roots: dict[int, tuple[bytes, str]], label: str = ""
) -> str | None:
    """What the log says against a checkpoint, or None when it agrees."""
    size = checkpoint.tree_size
    if size > head or size not in roots:
        return (
            f"the log holds {head} events, fewer than the {size} of the checkpoint{label}:"
            f" events {head + 1}-{size} were cut from its end"
        )
    root, head_hash = roots[size]
    if head_hash != checkpoint.head_hash:
        return (
            f"event {size} has the chain hash {head_hash}, not the checkpoint{label}'s head"
            f" {checkpoint.head_hash}: the history was rewritten"
        )
    if root.hex() != checkpoint.root_hash:
        return (
            f"the tree of the log's first {size} events has the root {root.hex()}, not the"
            f" checkpoint{label}'s {checkpoint.root_hash}: the history was rewritten"
        )
    return None


async def check_stored_checkpoints(
    services: Services, public_key: Ed25519PublicKey | None
) -> list[Check]:
    """Every stored checkpoint: signed, against the log, and consistent with the next."""
    async with services.engine.connect() as connection:
        stored = await stored_checkpoints(connection)
    if not stored:
        return [Check("checkpoints", Status.SKIPPED, "no checkpoint is stored")]
    head = (await services.store.head()).position
    roots = await log_roots(services.engine, [c.tree_size for _, c in stored])
    problems: list[str] = []
    for number, checkpoint in stored:
        label = f" #{number}"
        if public_key is not None:
            problem = signature_problem(checkpoint, public_key)
            if problem is not None:
                problems.append(f"checkpoint{label}: {problem}")
        problem = _against_log(checkpoint, head, roots, label)
        if problem is not None:
            problems.append(problem)
    problems += await _consistency_problems(services, stored, head)
    if problems:
        return [Check("checkpoints", Status.FAILED, "; ".join(problems))]
    signed = "signatures unchecked (no public key)" if public_key is None else "signed"
    return [
        Check(
            "checkpoints",
            Status.OK,
            f"{len(stored)} checkpoint{'' if len(stored) == 1 else 's'}: {signed}, each"
            " matching the log and consistent with the next",
        )
    ]


async def _consistency_problems(
    services: Services, stored: list[tuple[int, Checkpoint]], head: int
) -> list[str]:
    problems = []
    async with services.engine.connect() as connection:
        for (number, earlier), (later_number, later) in itertools.pairwise(stored):
            first, second = earlier.tree_size, later.tree_size
            pair = f"checkpoint #{number} (tree size {first}) and #{later_number} ({second})"
            if first > second:
                problems.append(f"{pair}: the later covers fewer events; the log shrank")
                continue
            if second > head:
                continue  # already named: the log no longer reaches it
            proof = await consistency_proof(connection, first, second) if first else []
            roots = bytes.fromhex(earlier.root_hash), bytes.fromhex(later.root_hash)
            if not verify_consistency(first, second, *roots, proof):
                problems.append(f"{pair} are not consistent: the history between them changed")
    return problems
