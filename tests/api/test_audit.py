"""The audit view over GraphQL: for auditors and admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from events.checkpoints import record_checkpoint
from events.merkle import root_of, verify_consistency, verify_inclusion
from events.tree import leaf_of
from service.signing import create_key_pair, load_signing_key
from tests.api.conftest import Client

AUDIT = "query($from: Int, $to: Int) { audit { head { position hash } verify(from: $from, to: $to) { ok checked firstBadPosition message } } }"


@pytest.mark.parametrize(("role", "code"), [(None, "UNAUTHENTICATED"), ("editor", "FORBIDDEN")])
async def test_audit_needs_an_auditor(client: Client, role: str | None, code: str) -> None:
    body = await client.post(AUDIT, role=role)
    assert body["errors"][0]["extensions"]["code"] == code


async def test_head_and_verify_over_a_range(client: Client) -> None:
    head = await client.services.store.head()
    data = await client.data(AUDIT, role="auditor")
    assert data["audit"]["head"] == {"position": head.position, "hash": head.hash}
    assert data["audit"]["verify"] == {
        "ok": True,
        "checked": head.position,
        "firstBadPosition": None,
        "message": f"{head.position} events verified",
    }
    part = await client.data(AUDIT, {"from": 3, "to": 5}, role="admin")
    assert part["audit"]["verify"]["checked"] == 3


@pytest.mark.parametrize("past", [{"to": 1}, {"from": 2}])
async def test_verify_refuses_a_range_past_the_head(client: Client, past: dict[str, int]) -> None:
    """Not a verification that checked nothing and held: the log has no such position."""
    head = (await client.services.store.head()).position
    variables = {key: head + value for key, value in past.items()}
    body = await client.post(AUDIT, variables, role="auditor")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    missing = head + next(iter(past.values()))
    assert error["message"] == f"the log ends at position {head}; it has no {missing}"
    # The head itself and the empty range just after it are in the log.
    last = await client.data(AUDIT, {"from": head, "to": head}, role="auditor")
    assert last["audit"]["verify"]["checked"] == 1
    zero = await client.post(AUDIT, {"from": 0}, role="auditor")
    assert zero["errors"][0]["message"].endswith("; got from 0")
    after = await client.data(AUDIT, {"from": head + 1}, role="auditor")
    assert after["audit"]["verify"]["ok"] is True
    assert after["audit"]["verify"]["checked"] == 0


async def test_verify_names_an_altered_position(client: Client) -> None:
    engine = client.services.engine
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("DROP TRIGGER events_append_only ON events"))
        else:
            await connection.execute(text("DROP TRIGGER events_no_update"))
        await connection.execute(text("UPDATE events SET data = '{}' WHERE position = 7"))
    data = await client.data(AUDIT, role="auditor")
    assert data["audit"]["verify"]["ok"] is False
    assert data["audit"]["verify"]["firstBadPosition"] == 7


PROOFS = """query($position: Int!, $size: Int!, $from: Int!) { audit {
  latestCheckpoint { treeSize rootHash headHash timestamp keyId signature }
  checkpoints(first: 1) { totalCount nodes { treeSize } pageInfo { hasNextPage endCursor } }
  inclusionProof(position: $position, treeSize: $size) { leafIndex treeSize auditPath }
  consistencyProof(from: $from, to: $size) { firstSize secondSize path }
} }"""


async def test_checkpoints_and_proofs_verify_against_each_other(
    client: Client, tmp_path: Path
) -> None:
    services = client.services
    key = load_signing_key(create_key_pair(tmp_path)[0])
    await record_checkpoint(services.engine, key, lambda: datetime.now(UTC))
    head = (await services.store.head()).position
    second = await record_checkpoint(services.engine, key, lambda: datetime.now(UTC))
    variables = {"position": 3, "size": head, "from": 5}
    audit = (await client.data(PROOFS, variables, role="auditor"))["audit"]
    assert audit["latestCheckpoint"] == {
        "treeSize": second.tree_size,
        "rootHash": second.root_hash,
        "headHash": second.head_hash,
        "timestamp": second.timestamp,
        "keyId": second.key_id,
        "signature": second.signature,
    }
    assert audit["checkpoints"]["totalCount"] == 2
    assert audit["checkpoints"]["pageInfo"]["hasNextPage"] is True
    rest = await client.data(
        "query($after: String) { audit { checkpoints(first: 5, after: $after) { nodes { rootHash } pageInfo { hasNextPage } } } }",
        {"after": audit["checkpoints"]["pageInfo"]["endCursor"]},
        role="admin",
    )
    assert rest["audit"]["checkpoints"]["nodes"] == [{"rootHash": second.root_hash}]
    proof = audit["inclusionProof"]
    assert (proof["leafIndex"], proof["treeSize"]) == (2, head)
    hashes = [event.hash for event in await services.store.read_all(limit=head)]
    root = bytes.fromhex(second.root_hash)
    path = [bytes.fromhex(value) for value in proof["auditPath"]]
    assert verify_inclusion(2, head, leaf_of(hashes[2]), path, root)
    consistency = audit["consistencyProof"]
    assert (consistency["firstSize"], consistency["secondSize"]) == (5, head)
    proof_path = [bytes.fromhex(value) for value in consistency["path"]]
    old_root = root_of(leaf_of(value) for value in hashes[:5])
    assert proof_path
    assert verify_consistency(5, head, old_root, root, proof_path)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"position": 0, "size": 5, "from": 1}, "position 0 is not in the tree of 5 events"),
        ({"position": 1, "size": 10**6, "from": 1}, "it has no tree of 1000000"),
        ({"position": 1, "size": 5, "from": 6}, "the log holds 5 events; it has no tree of 6"),
    ],
)
async def test_a_proof_outside_the_log_is_bad_input(
    client: Client, variables: dict[str, int], message: str
) -> None:
    body = await client.post(PROOFS, variables, role="auditor")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


async def test_proofs_need_an_auditor(client: Client) -> None:
    body = await client.post(PROOFS, {"position": 1, "size": 1, "from": 1}, role="editor")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
