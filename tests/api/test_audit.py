"""The audit view over GraphQL: for auditors and admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
