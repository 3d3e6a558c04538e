"""The raw log (`events`), its metadata for auditors, provenance, and `audit { head verify }`."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from tests.acceptance.support import Coop, codes

EVENTS = """
query($after: Int!, $first: Int, $streamId: String, $types: [String!]) {
  events(after: $after, first: $first, streamId: $streamId, types: $types) {
    totalCount
    nodes { position streamId streamVersion eventId type schemaVersion data recordedAt prevHash hash }
    pageInfo { hasNextPage endCursor }
  }
}
"""

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def coop(shared: Coop) -> Coop:
    """This module only reads: its tests share one seeded service."""
    return shared


async def events(coop: Coop, **args: Any) -> dict[str, Any]:
    variables = {"after": 0, **args}
    connection: dict[str, Any] = (await coop.data(EVENTS, variables))["events"]
    return connection


async def test_events_reads_the_log_in_position_order(coop: Coop) -> None:
    first = await events(coop, first=5)
    assert [e["position"] for e in first["nodes"]] == [1, 2, 3, 4, 5]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["totalCount"] == 37

    page = await events(coop, after=5, first=2)
    assert [e["position"] for e in page["nodes"]] == [6, 7]

    every = await events(coop, first=100)
    nodes = every["nodes"]
    assert [e["position"] for e in nodes] == list(range(1, 38))
    for previous, event in itertools.pairwise(nodes):
        assert event["prevHash"] == previous["hash"], event["position"]
        assert datetime.fromisoformat(event["recordedAt"]) >= datetime.fromisoformat(
            previous["recordedAt"]
        ), "recorded time never decreases along positions"
    assert len({e["eventId"] for e in nodes}) == 37
    assert all(isinstance(e["data"], dict) and e["schemaVersion"] >= 1 for e in nodes)
    assert nodes[1]["type"] == "PartnerRegistered"
    assert nodes[1]["data"]["key"] == "tokyo"


async def test_events_filters_by_stream_and_type(coop: Coop) -> None:
    tokyo = await events(coop, streamId="partner:tokyo")
    assert tokyo["nodes"], "Tokyo's partner stream"
    assert {e["streamId"] for e in tokyo["nodes"]} == {"partner:tokyo"}
    assert [e["streamVersion"] for e in tokyo["nodes"]] == list(range(1, len(tokyo["nodes"]) + 1))
    assert tokyo["totalCount"] == len(tokyo["nodes"])

    registered = await events(coop, types=["PartnerRegistered"], first=100)
    assert {e["type"] for e in registered["nodes"]} == {"PartnerRegistered"}
    assert registered["totalCount"] == 9

    both = await events(coop, types=["PartnerRegistered", "SourceRegistered"], first=100)
    assert both["totalCount"] == 10

    none = await events(coop, streamId="partner:tokyo", types=["SourceRegistered"])
    assert none["totalCount"] == 0
    assert none["nodes"] == []


async def test_log_metadata_and_actors_are_for_auditors_only(coop: Coop) -> None:
    query = "{ events(after: 1, first: 1) { nodes { position metadata } } }"
    for role in ("auditor", "admin"):
        data = await coop.data(query, role=role)
        metadata = data["events"]["nodes"][0]["metadata"]
        assert metadata["actor"] == "seed", metadata

    for role, expected in (
        (None, {"UNAUTHENTICATED", "FORBIDDEN"}),
        ("reader", {"FORBIDDEN"}),
        ("editor", {"FORBIDDEN"}),
    ):
        body = await coop.gql(query, role=role)
        assert body.get("errors"), (role, body)
        assert set(codes(body)) <= expected, (role, body["errors"])
        assert '"seed"' not in str(body.get("data"))
        assert "'seed'" not in str(body.get("data"))

    provenance = '{ partner(key: "tokyo") { provenance { nodes { position type actor source { document } } } } }'
    audited = await coop.data(provenance, role="auditor")
    assert {p["actor"] for p in audited["partner"]["provenance"]["nodes"]} == {"seed"}
    for role in (None, "reader"):
        body = await coop.gql(provenance, role=role)
        shown = body.get("data") and body["data"]["partner"]
        if shown:
            assert all(p["actor"] is None for p in shown["provenance"]["nodes"]), (role, shown)
            assert shown["provenance"]["nodes"][0]["position"] == 2


async def test_audit_head_and_verify(coop: Coop) -> None:
    every = await events(coop, first=100)
    last = every["nodes"][-1]
    data = await coop.data(
        "{ audit { head { position hash recordedAt } "
        "verify(from: 1) { ok checked firstBadPosition message } "
        "part: verify(from: 10, to: 20) { ok checked firstBadPosition } } }",
        role="auditor",
    )
    audit = data["audit"]
    assert audit["head"]["position"] == 37
    assert audit["head"]["hash"] == last["hash"]
    assert audit["head"]["recordedAt"] == last["recordedAt"]
    assert audit["verify"]["ok"] is True
    assert audit["verify"]["checked"] == 37
    assert audit["verify"]["firstBadPosition"] is None
    assert audit["part"] == {"ok": True, "checked": 11, "firstBadPosition": None}

    admin = await coop.data("{ audit { head { position } } }", role="admin")
    assert admin["audit"]["head"]["position"] == 37


async def test_audit_is_refused_to_other_roles(coop: Coop) -> None:
    query = "{ audit { head { position hash } } }"
    anonymous = await coop.gql(query)
    assert codes(anonymous), anonymous
    assert set(codes(anonymous)) <= {"UNAUTHENTICATED", "FORBIDDEN"}, anonymous
    for role in ("reader", "editor"):
        body = await coop.gql(query, role=role)
        assert codes(body) == ["FORBIDDEN"], (role, body)
        assert not (body.get("data") or {}).get("audit")
