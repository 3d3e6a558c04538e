"""Signed checkpoints, inclusion proofs, and the tampering they expose, on both engines:
a cut tail with projections rebuilt, a rewritten chain (with and without the tree rebuilt
to match), and a checkpoint signed with another key."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.backends import backend_of
from events.chain import event_hash
from events.database import create_engine
from events.kept import kept_subtrees
from events.merkle import Frontier, leaf_hash, verify_inclusion
from events.tables import events
from service.services import Services
from service.signing import create_key_pair, load_public_key, load_signing_key
from tests.audit.conftest import CORRECTION, HEAD, Coop, drop_guards


@pytest.fixture
def keys(tmp_path: Path, coop: Coop, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key pair in tmp_path/keys; the service signs with it."""
    folder = tmp_path / "keys"
    monkeypatch.setenv("COOP_SIGNING_KEY", str(folder / "coop-signing.pem"))
    create_key_pair(folder)
    return folder


@pytest.fixture
async def engine_of_sampled(sampled_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sampled_url)
    yield engine
    await engine.dispose()


async def checkpoint_file(coop: Coop, url: str, folder: Path, name: str = "cp.json") -> Path:
    ran = await coop(url, "checkpoint")
    assert ran.code == 0, ran.err
    path = folder / name
    path.write_text(ran.out)
    return path


def root_of_hashes(hashes: list[str]) -> str:
    frontier = Frontier()
    for value in hashes:
        frontier.append(hashlib.sha256(b"\x00" + bytes.fromhex(value)).digest())
    return frontier.root().hex()


async def chain_hashes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list(
            (await connection.execute(select(events.c.hash).order_by(events.c.position))).scalars()
        )


async def test_keys_create_writes_an_ed25519_pair_and_never_overwrites(
    tmp_path: Path, coop: Coop
) -> None:
    folder = tmp_path / "new"
    ran = await coop("sqlite:///unused.db", "keys", "create", "--out", str(folder))
    assert ran.code == 0, ran.err
    private, public = folder / "coop-signing.pem", folder / "coop-signing.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert load_signing_key(private).public_key == load_public_key(public)
    again = await coop("sqlite:///unused.db", "keys", "create", "--out", str(folder))
    assert again.code == 1
    assert "already exists; a key is never overwritten" in again.err


async def test_a_checkpoint_is_signed_over_the_contract_message_and_kept(
    sampled_url: str, coop: Coop, keys: Path, tmp_path: Path, engine_of_sampled: AsyncEngine
) -> None:
    made = json.loads((await checkpoint_file(coop, sampled_url, tmp_path)).read_text())
    assert list(made) == ["tree_size", "root_hash", "head_hash", "timestamp", "key_id", "signature"]
    hashes = await chain_hashes(engine_of_sampled)
    assert made["tree_size"] == len(hashes) >= HEAD
    assert made["head_hash"] == hashes[-1]
    assert made["root_hash"] == root_of_hashes(hashes)
    assert made["timestamp"].endswith("Z")
    public = load_public_key(keys / "coop-signing.pub.pem")
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert made["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    message = (
        f"coop-checkpoint/v1\n{made['tree_size']}\n{made['root_hash']}\n{made['head_hash']}\n"
        f"{made['timestamp']}\n"
    )
    public.verify(base64.b64decode(made["signature"]), message.encode())
    async with engine_of_sampled.connect() as connection:
        kept = (await connection.execute(text("SELECT root_hash FROM checkpoints"))).scalars()
        assert made["root_hash"] in list(kept)


async def test_a_checkpoint_needs_a_signing_key(sampled_url: str, coop: Coop) -> None:
    ran = await coop(sampled_url, "checkpoint")
    assert ran.code == 2
    assert "COOP_SIGNING_KEY is not set" in ran.err


async def test_every_inclusion_proof_verifies_against_the_checkpoint(
    sampled_url: str, coop: Coop, keys: Path, tmp_path: Path, engine_of_sampled: AsyncEngine
) -> None:
    made = json.loads((await checkpoint_file(coop, sampled_url, tmp_path)).read_text())
    size, root = made["tree_size"], bytes.fromhex(made["root_hash"])
    hashes = await chain_hashes(engine_of_sampled)
    for position in range(1, size + 1):
        ran = await coop(sampled_url, "proof", str(position), "--tree-size", str(size))
        assert ran.code == 0, ran.err
        proof = json.loads(ran.out)
        assert list(proof) == ["leaf_index", "tree_size", "audit_path"]
        assert proof["leaf_index"] == position - 1
        leaf = leaf_hash(bytes.fromhex(hashes[position - 1]))
        path = [bytes.fromhex(value) for value in proof["audit_path"]]
        assert verify_inclusion(position - 1, size, leaf, path, root)
    beyond = await coop(sampled_url, "proof", "3", "--tree-size", str(size + 100))
    assert beyond.code == 2
    assert f"the log holds {size} events; it has no tree of {size + 100}" in beyond.err
    outside = await coop(sampled_url, "proof", "9", "--tree-size", "8")
    assert outside.code == 2
    assert "position 9 is not in the tree of 8 events (1-8)" in outside.err


async def test_an_untouched_log_verifies_against_its_checkpoints(
    sampled: Services, database_url: str, coop: Coop, keys: Path, tmp_path: Path
) -> None:
    sampled_url = database_url
    await checkpoint_file(coop, sampled_url, tmp_path, "first.json")
    await sampled.store.append("membership:city-1@c40", [CORRECTION])
    path = await checkpoint_file(coop, sampled_url, tmp_path)
    public = str(keys / "coop-signing.pub.pem")
    ran = await coop(
        sampled_url, "verify", "--checkpoint", str(path), "--public-key", public, "--checkpoints"
    )
    assert ran.code == 0, ran.out + ran.err
    assert "signature: ok" in ran.out
    assert "checkpoint: ok: the log's first" in ran.out
    assert "tree: ok: root" in ran.out
    assert "checkpoints: ok: 2 checkpoints: signed," in ran.out
    assert "each matching the log and consistent with the next" in ran.out


async def test_a_checkpoint_signed_with_another_key_is_named(
    sampled: Services,
    database_url: str,
    coop: Coop,
    keys: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sampled_url = database_url
    create_key_pair(tmp_path / "other")
    monkeypatch.setenv("COOP_SIGNING_KEY", str(tmp_path / "other" / "coop-signing.pem"))
    path = await checkpoint_file(coop, sampled_url, tmp_path, "other.json")
    public = str(keys / "coop-signing.pub.pem")
    ran = await coop(sampled_url, "verify", "--checkpoint", str(path), "--public-key", public)
    assert ran.code == 1
    assert "signature: FAILED: the checkpoint names key" in ran.out
    assert "it was signed with another key" in ran.out
    assert "coop: verification failed: signature" in ran.out
    # The right key's id on a signature made by another key: the signature itself fails.
    forged = json.loads(path.read_text())
    forged["key_id"] = load_public_key_id(keys)
    path.write_text(json.dumps(forged))
    ran = await coop(sampled_url, "verify", "--checkpoint", str(path), "--public-key", public)
    assert ran.code == 1
    assert "signature: FAILED: the signature does not verify under key" in ran.out


def load_public_key_id(folder: Path) -> str:
    return load_signing_key(folder / "coop-signing.pem").key_id


async def test_a_cut_tail_with_projections_rebuilt_is_named(
    sampled: Services, database_url: str, coop: Coop, keys: Path, tmp_path: Path
) -> None:
    path = await checkpoint_file(coop, database_url, tmp_path)
    await drop_guards(sampled.engine)
    async with sampled.engine.begin() as connection:
        await connection.execute(text(f"DELETE FROM events WHERE position > {HEAD - 2}"))
        await connection.execute(
            text(f"DELETE FROM idempotency_keys WHERE last_position > {HEAD - 2}")
        )
    await restore_guards(sampled.engine, "events")
    assert (await coop(database_url, "projections", "rebuild")).code == 0
    plain = await coop(database_url, "verify")
    assert plain.code == 0, plain.out  # the chain alone cannot tell a cut tail
    public = str(keys / "coop-signing.pub.pem")
    ran = await coop(database_url, "verify", "--checkpoint", str(path), "--public-key", public)
    assert ran.code == 1
    assert (
        f"checkpoint: FAILED: the log holds {HEAD - 2} events, fewer than the {HEAD} of the"
        f" checkpoint: events {HEAD - 1}-{HEAD} were cut from its end"
    ) in ran.out
    assert f"coop: verification failed at position {HEAD - 1}: checkpoint" in ran.out
    stored = await coop(database_url, "verify", "--checkpoints")
    assert stored.code == 1
    assert f"fewer than the {HEAD} of the checkpoint #1" in stored.out


async def rewrite_chain(engine: AsyncEngine, position: int) -> None:
    """Change one event's data and recompute every hash from there, as a forger would."""
    async with engine.begin() as connection:
        rows = (
            await connection.execute(
                select(events).where(events.c.position >= position).order_by(events.c.position)
            )
        ).all()
        prev_hash = rows[0].prev_hash
        for row in rows:
            values = dict(row._mapping)
            if row.position == position:
                values["data"] = values["data"].replace('"n1"', '"forged"')
            values["prev_hash"] = prev_hash
            del values["hash"], values["subtrees"]  # the tree is left as it was
            prev_hash = event_hash(**values)
            await connection.execute(
                events.update()
                .where(events.c.position == row.position)
                .values(data=values["data"], prev_hash=values["prev_hash"], hash=prev_hash)
            )


async def rebuild_tree(engine: AsyncEngine) -> None:
    """Make the subtrees the events hold match the rewritten log, guards dropped."""
    hashes = await chain_hashes(engine)
    await drop_guards(engine)
    async with engine.begin() as connection:
        for position, subtrees in enumerate(kept_subtrees(Frontier(), hashes), start=1):
            await connection.execute(
                events.update().where(events.c.position == position).values(subtrees=subtrees)
            )
    await restore_guards(engine, "events")


async def restore_guards(engine: AsyncEngine, table: str) -> None:
    """Put back the triggers of `table` (dropping what is left of them), as a forger would."""
    backend = backend_of(engine)
    async with engine.begin() as connection:
        for name in backend.guards(table):
            on = f" ON {table}" if backend.name == "postgresql" else ""
            await connection.execute(text(f"DROP TRIGGER IF EXISTS {name}{on}"))
        for statement in backend.guard_statements(table):
            await connection.execute(text(statement))


async def test_a_rewritten_chain_is_named(
    sampled: Services, database_url: str, coop: Coop, keys: Path, tmp_path: Path
) -> None:
    path = await checkpoint_file(coop, database_url, tmp_path)
    await drop_guards(sampled.engine)
    await rewrite_chain(sampled.engine, 7)
    await restore_guards(sampled.engine, "events")
    assert (await coop(database_url, "projections", "rebuild")).code == 0
    plain = await coop(database_url, "verify")
    assert "chain: ok" in plain.out  # every hash was recomputed
    assert plain.code == 1
    assert "tree: FAILED: the Merkle tree's nodes give the root" in plain.out
    await rebuild_tree(sampled.engine)
    plain = await coop(database_url, "verify")
    assert plain.code == 0, plain.out  # the log and its tree agree with each other
    public = str(keys / "coop-signing.pub.pem")
    ran = await coop(database_url, "verify", "--checkpoint", str(path), "--public-key", public)
    assert ran.code == 1
    assert f"checkpoint: FAILED: event {HEAD} has the chain hash" in ran.out
    assert "the history was rewritten" in ran.out
    stored = await coop(database_url, "verify", "--checkpoints")
    assert stored.code == 1
    assert "checkpoints: FAILED:" in stored.out
    assert "the history was rewritten" in stored.out
