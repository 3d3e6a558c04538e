"""verify_offline.py, run as an auditor would (its own process, no Coop imports) on a fresh
export, a checkpoint, a public key, and proofs; and its hashing against Coop's own."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import merkle
from events.chain import canonical_json
from service.services import Services
from service.signing import create_key_pair
from tests.audit.conftest import CORRECTION, HEAD, Coop
from tests.audit.test_import_whole import rechained, recorded_back

VERIFIER = Path(__file__).resolve().parents[2] / "verify_offline.py"


@functools.cache
def verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_offline", VERIFIER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def offline(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The verifier in a process of its own, isolated (-I): no working folder on the path."""
    command = [sys.executable, "-I", str(VERIFIER), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_it_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(VERIFIER.read_text())
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    tops = {name.split(".")[0] for name in names}
    assert tops - set(sys.stdlib_module_names) == {"cryptography"}


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keys"
    create_key_pair(folder)
    monkeypatch.setenv("COOP_SIGNING_KEY", str(folder / "coop-signing.pem"))
    return folder


async def saved(coop: Coop, url: str, folder: Path, name: str, *args: str) -> Path:
    ran = await coop(url, *args)
    path = folder / name
    assert ran.code == 0, ran.err
    path.write_text(ran.out)
    return path


async def test_a_fresh_export_its_checkpoint_and_proofs_verify_offline(
    sampled: Services, database_url: str, coop: Coop, keys: Path, tmp_path: Path
) -> None:
    old = await saved(coop, database_url, tmp_path, "old.json", "checkpoint")
    await sampled.store.append("membership:city-1@c40", [CORRECTION])
    size = HEAD + 1
    new = await saved(coop, database_url, tmp_path, "new.json", "checkpoint")
    export = await saved(coop, database_url, tmp_path, "log.ndjson", "export")
    public = keys / "coop-signing.pub.pem"
    ran = offline("--export", export, "--checkpoint", new, "--public-key", public)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"ok: the export's {size} events form an unbroken chain" in ran.stdout
    assert f"ok: the trailer matches: {size} events" in ran.stdout
    assert f"ok: the export's first {size} events have the checkpoint's root" in ran.stdout
    assert ran.stdout.endswith("verified\n")
    # One event and its audit path, without the export.
    event = tmp_path / "event.json"
    event.write_text(export.read_text().splitlines()[6])
    proof = await saved(
        coop, database_url, tmp_path, "proof.json", "proof", "7", "--tree-size", str(size)
    )
    ran = offline("--event", event, "--proof", proof, "--checkpoint", new, "--public-key", public)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"ok: event 7 is in the checkpoint's tree of {size} events" in ran.stdout
    # The older checkpoint's tree is the start of the newer's.
    consistency = await saved(
        coop, database_url, tmp_path, "c.json", "proof", "--consistency-from", str(HEAD)
    )
    ran = offline(
        "--consistency", consistency, "--old-checkpoint", old, "--checkpoint", new,
        "--public-key", public,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"ok: the tree of {size} events extends the tree of {HEAD}" in ran.stdout


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


async def test_tampering_is_named_offline(
    sampled_url: str, coop: Coop, keys: Path, tmp_path: Path
) -> None:
    checkpoint = await saved(coop, sampled_url, tmp_path, "cp.json", "checkpoint")
    size = json.loads(checkpoint.read_text())["tree_size"]
    export = await saved(coop, sampled_url, tmp_path, "log.ndjson", "export")
    public = keys / "coop-signing.pub.pem"
    lines = lines_of(export)
    short = await saved(coop, sampled_url, tmp_path, "short.ndjson", "export", "--until", "10")
    create_key_pair(tmp_path / "other")
    cases: dict[str, tuple[list[str], Path, Path, str]] = {
        "altered": (
            [*lines[:8], lines[8].replace('"city-2"', '"city-9"'), *lines[9:]],
            checkpoint,
            public,
            "export line 9: position 9 was altered",
        ),
        "recorded back": (
            lines_of(rechained(export, tmp_path / "back.ndjson", recorded_back(6))),
            checkpoint,
            public,
            "export line 6: position 6 was recorded at ",
        ),
        "cut": (lines[:-3], checkpoint, public, "no trailer line: it was cut short"),
        "repeated": (
            [*lines[:6], *lines[5:]],
            checkpoint,
            public,
            "position 6 comes again (or out of order) after position 6: position 7 was expected",
        ),
        "missing": (
            [*lines[:5], *lines[6:]],
            checkpoint,
            public,
            "position 6 is missing: the next event is 7",
        ),
        "short": (
            lines_of(short),
            checkpoint,
            public,
            f"the export holds 10 events, fewer than the checkpoint's {size}",
        ),
        "other key": (
            lines,
            checkpoint,
            tmp_path / "other" / "coop-signing.pub.pem",
            "it was signed with another key",
        ),
    }
    for name, (kept, given_checkpoint, key, expected) in cases.items():
        bad = tmp_path / "bad.ndjson"
        bad.write_text("".join(kept))
        ran = offline("--export", bad, "--checkpoint", given_checkpoint, "--public-key", key)
        assert (ran.returncode, expected in ran.stdout) == (1, True), (name, ran.stdout)
    forged = json.loads(checkpoint.read_text())
    forged["tree_size"] -= 1
    checkpoint.write_text(json.dumps(forged))
    ran = offline("--export", export, "--checkpoint", checkpoint, "--public-key", public)
    assert ran.returncode == 1
    assert "the checkpoint's signature does not verify" in ran.stdout


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_its_canonical_json_is_coops(value: object) -> None:
    assert verifier().canonical(value) == canonical_json(value)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_its_tree_and_proof_checks_agree_with_coops(size: int, seed: int) -> None:
    offline_tree = verifier()
    hashes = [hashlib.sha256(f"{seed}:{i}".encode()).hexdigest() for i in range(size)]
    leaves = [merkle.leaf_hash(bytes.fromhex(value)) for value in hashes]
    built = offline_tree.Tree()
    for value in hashes:
        built.append(offline_tree.leaf_hash(value))
    assert built.root() == merkle.root_of(leaves)
    nodes = {(n.level, n.idx): n.hash for n in merkle.Frontier().extend(leaves)}
    roots = [merkle.root_of(leaves[:n]) for n in range(size + 1)]
    for index in range(size):
        path = [merkle.range_hash(lo, hi, nodes) for lo, hi in merkle.inclusion_ranges(index, size)]
        assert offline_tree.verify_inclusion(index, size, leaves[index], path, roots[size])
        if path:
            short = path[1:]
            assert not offline_tree.verify_inclusion(index, size, leaves[index], short, roots[size])
        first = index + 1
        proof = [
            merkle.range_hash(lo, hi, nodes) for lo, hi in merkle.consistency_ranges(first, size)
        ]
        assert offline_tree.verify_consistency(first, size, roots[first], roots[size], proof)
        if first < size:
            assert not offline_tree.verify_consistency(first, size, roots[size], roots[size], proof)
