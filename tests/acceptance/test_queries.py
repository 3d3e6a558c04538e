"""Reading the record: nested queries, partial dates, as-of and known-at, Relay connections."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.acceptance.support import SEED_DOCUMENT, Coop, codes

MEMBERSHIPS = """
query($key: String!, $asOf: Date, $knownAt: DateTime, $atPosition: Int) {
  partner(key: $key, asOf: $asOf, knownAt: $knownAt, atPosition: $atPosition) {
    key name
    memberships { totalCount nodes { network { key } since until certain } }
  }
}
"""

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def coop(shared: Coop) -> Coop:
    """This module only reads: its tests share one seeded service."""
    return shared


def by_network(partner: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["network"]["key"]: node for node in partner["memberships"]["nodes"]}


async def test_tokyo_memberships_keep_the_sources_precision(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "tokyo") { key kind country region memberships { totalCount nodes { '
        "network { key name kind } since until notes certain source { document section } "
        "member { key } } } } }"
    )
    tokyo = data["partner"]
    assert (tokyo["key"], tokyo["kind"], tokyo["country"]) == ("tokyo", "CITY", "Japan")
    networks = by_network(tokyo)
    assert set(networks) == {"c40", "icap"}
    assert tokyo["memberships"]["totalCount"] == 2
    assert networks["c40"]["since"] == "2006"
    assert networks["icap"]["since"] == "2009-05"
    assert networks["icap"]["network"]["name"] == "International Carbon Action Partnership"
    assert networks["c40"]["until"] is None
    assert networks["c40"]["member"] == {"key": "tokyo"}
    assert networks["c40"]["source"]["document"] == SEED_DOCUMENT
    assert networks["icap"]["source"] == {
        "document": SEED_DOCUMENT,
        "section": "Activities through ICAP",
    }
    assert any("Asia" in note for note in networks["icap"]["notes"])


async def test_as_of_a_past_day_and_the_basis_echo(coop: Coop) -> None:
    head = await coop.head()
    body = await coop.gql(MEMBERSHIPS, {"key": "tokyo", "asOf": "2008-01-01"})
    networks = by_network(body["data"]["partner"])
    assert set(networks) == {"c40"}, "ICAP was joined in 2009-05"
    assert networks["c40"]["certain"] is True
    basis = body["extensions"]["basis"]["partner"]
    assert basis["asOf"] == "2008-01-01"
    assert basis["position"] == head
    assert basis["knownAt"] is None

    before = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2005-06-30"})
    assert before["partner"]["memberships"]["nodes"] == []

    # each root field is echoed under its own response key
    two = await coop.gql(
        '{ then: partner(key: "tokyo", asOf: "2008-01-01") { key } now: partner(key: "tokyo") { key } }'
    )
    assert two["extensions"]["basis"]["then"]["asOf"] == "2008-01-01"
    assert two["extensions"]["basis"]["now"]["asOf"] is None

    later = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2015-01-01"})
    assert set(by_network(later["partner"])) == {"c40", "icap"}


async def test_as_of_inside_the_partial_date_is_marked_uncertain(coop: Coop) -> None:
    data = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2006-03-01"})
    networks = by_network(data["partner"])
    assert "c40" in networks, "joined in '2006': on 2006-03-01 the record cannot tell; not a guess"
    assert networks["c40"]["certain"] is False

    data = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2009-05-15"})
    networks = by_network(data["partner"])
    assert networks["c40"]["certain"] is True
    assert networks["icap"]["certain"] is False

    data = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2009-06-01"})
    assert by_network(data["partner"])["icap"]["certain"] is True


async def test_a_member_with_no_recorded_start_is_uncertain_as_of_a_past_day(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "c40", asOf: "2008-01-01") { members(first: 50) { nodes '
        "{ member { key } since certain } } } }"
    )
    members = {node["member"]["key"]: node for node in data["partner"]["members"]["nodes"]}
    assert members["tokyo"]["certain"] is True
    assert "london" in members, "'cities such as London': no date, so the record cannot tell"
    assert members["london"]["since"] is None
    assert members["london"]["certain"] is False


async def test_as_of_applies_to_the_whole_nested_selection_unless_overridden(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "c40", asOf: "2008-01-01") { members(first: 50) { nodes { member { key '
        "memberships { nodes { network { key } } } "
        'later: memberships(asOf: "2012-01-01") { nodes { network { key } } } } } } } }'
    )
    members = {
        node["member"]["key"]: node["member"] for node in data["partner"]["members"]["nodes"]
    }
    tokyo = members["tokyo"]
    assert [node["network"]["key"] for node in tokyo["memberships"]["nodes"]] == ["c40"]
    assert sorted(node["network"]["key"] for node in tokyo["later"]["nodes"]) == ["c40", "icap"]

    early = await coop.data(
        '{ partner(key: "c40", asOf: "2005-01-01") { members(first: 50) { nodes { member { key } } } } }'
    )
    assert "tokyo" not in {n["member"]["key"] for n in early["partner"]["members"]["nodes"]}


async def test_known_at_before_anything_was_recorded(coop: Coop) -> None:
    body = await coop.gql(MEMBERSHIPS, {"key": "tokyo", "knownAt": "2000-01-01T00:00:00+00:00"})
    assert not body.get("errors"), body
    assert body["data"]["partner"] is None
    assert body["extensions"]["basis"]["partner"]["position"] == 0

    early = await coop.data(MEMBERSHIPS, {"key": "tokyo", "atPosition": 2})
    assert early["partner"]["key"] == "tokyo"
    assert early["partner"]["memberships"]["nodes"] == []
    assert (await coop.data(MEMBERSHIPS, {"key": "tokyo", "atPosition": 1}))["partner"] is None


PAGE = """
query($first: Int, $after: String) {
  partners(first: $first, after: $after) {
    totalCount
    nodes { key }
    edges { cursor node { key } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_relay_connection_pages_with_keyset_cursors(coop: Coop) -> None:
    keys: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await coop.data(PAGE, {"first": 4, "after": after}))["partners"]
        pages += 1
        assert page["totalCount"] == 9
        assert [e["node"]["key"] for e in page["edges"]] == [n["key"] for n in page["nodes"]]
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert info["hasPreviousPage"] is (after is not None)
        keys += [n["key"] for n in page["nodes"]]
        if not info["hasNextPage"]:
            break
        assert len(page["nodes"]) == 4
        after = info["endCursor"]
    assert pages == 3
    assert keys == sorted(keys)
    assert len(set(keys)) == 9
    assert {"tokyo", "c40", "icap", "beijing", "yangon", "london", "paris"} <= set(keys)


async def test_a_bad_cursor_is_bad_user_input(coop: Coop) -> None:
    body = await coop.gql(PAGE, {"first": 2, "after": "not-a-cursor"})
    assert codes(body) == ["BAD_USER_INPUT"], body


async def test_node_fetches_every_kind_of_object_by_global_id(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "tokyo") { id key memberships { nodes { id membershipId } } '
        "roles { nodes { id roleId } } } "
        "programs(first: 1) { nodes { id key partners { nodes { id participationId } } } } "
        "activities(first: 1) { nodes { id key } } commitments(first: 1) { nodes { id key } } "
        "sources { nodes { id key } } }"
    )
    tokyo = data["partner"]
    program = data["programs"]["nodes"][0]
    cases = [
        (tokyo["id"], "Partner", "key", "tokyo"),
        (
            tokyo["memberships"]["nodes"][0]["id"],
            "Membership",
            "membershipId",
            tokyo["memberships"]["nodes"][0]["membershipId"],
        ),
        (tokyo["roles"]["nodes"][0]["id"], "Role", "roleId", tokyo["roles"]["nodes"][0]["roleId"]),
        (program["id"], "Program", "key", program["key"]),
        (
            program["partners"]["nodes"][0]["id"],
            "Participation",
            "participationId",
            program["partners"]["nodes"][0]["participationId"],
        ),
        (
            data["activities"]["nodes"][0]["id"],
            "Activity",
            "key",
            data["activities"]["nodes"][0]["key"],
        ),
        (
            data["commitments"]["nodes"][0]["id"],
            "Commitment",
            "key",
            data["commitments"]["nodes"][0]["key"],
        ),
        (data["sources"]["nodes"][0]["id"], "Source", "key", data["sources"]["nodes"][0]["key"]),
    ]
    ids = [case[0] for case in cases]
    assert len(set(ids)) == len(ids), "global ids are unique across types"
    query = """query($id: ID!) { node(id: $id) { __typename id
      ... on Partner { key } ... on Membership { membershipId } ... on Role { roleId }
      ... on Program { key } ... on Participation { participationId } ... on Activity { key }
      ... on Commitment { key } ... on Source { key } } }"""
    for global_id, typename, field, value in cases:
        node = (await coop.data(query, {"id": global_id}))["node"]
        assert node is not None, (typename, global_id)
        assert (node["__typename"], node["id"], node[field]) == (typename, global_id, value)

    unknown = base64.b64encode(b"Partner:no-such-partner").decode()
    body = await coop.gql(query, {"id": unknown})
    assert body.get("data", {}).get("node") is None
    assert all(code != "INTERNAL_SERVER_ERROR" for code in codes(body))


async def test_root_filters(coop: Coop) -> None:
    q = "query($k: PartnerKind, $c: String, $r: String, $s: String) { partners(kind: $k, country: $c, region: $r, search: $s) { totalCount nodes { key } } }"

    async def keys(**args: str) -> list[str]:
        data = await coop.data(
            q,
            {
                "k": args.get("kind"),
                "c": args.get("country"),
                "r": args.get("region"),
                "s": args.get("search"),
            },
        )
        assert data["partners"]["totalCount"] == len(data["partners"]["nodes"])
        return [n["key"] for n in data["partners"]["nodes"]]

    assert await keys(kind="NETWORK") == ["c40", "icap"]
    assert await keys(country="United States") == ["los-angeles", "new-york"]
    assert await keys(region="Europe") == ["london", "paris"]
    assert await keys(search="york") == ["new-york"]
    assert await keys(kind="CITY", region="Asia") == ["beijing", "tokyo", "yangon"]

    programs = await coop.data(
        "{ air: programs(field: AIR_QUALITY) { nodes { key } } "
        'yangon: programs(partner: "yangon") { nodes { key partners { nodes { partner { key } } } } } '
        'program(key: "c40-waste-to-resources") { name network { key } lead { key } status } }'
    )
    assert {n["key"] for n in programs["air"]["nodes"]} == {
        "beijing-air-quality-researcher-exchange",
        "beijing-air-quality-technology-exchange",
    }
    assert [n["key"] for n in programs["yangon"]["nodes"]] == [
        "waste-management-bilateral-programs"
    ]
    assert programs["program"]["network"] == {"key": "c40"}

    activities = await coop.data(
        '{ dec: activities(from: "2020-12-01", to: "2020-12-31") { nodes { key on } } '
        'y2019: activities(from: "2019-01-01", to: "2019-12-31") { nodes { key } } '
        'commitments(by: "tokyo") { totalCount nodes { by { key } statement } } }'
    )
    assert "c40-steering-committee-meeting-2020-12" in {
        n["key"] for n in activities["dec"]["nodes"]
    }
    assert "c40-steering-committee-meeting-2020-12" not in {
        n["key"] for n in activities["y2019"]["nodes"]
    }
    assert activities["commitments"]["totalCount"] >= 1
    assert all(n["by"]["key"] == "tokyo" for n in activities["commitments"]["nodes"])


async def test_every_object_is_a_node_and_shows_its_source_and_provenance(coop: Coop) -> None:
    """README: 'Every object implements Node with a global id. Every object shows where it
    came from: source { document section }, and provenance/history list the events behind it.'"""
    data = await coop.data(
        "{ __schema { types { name kind interfaces { name } fields { name } } } }"
    )
    types = {t["name"]: t for t in data["__schema"]["types"]}
    missing = []
    for name in (
        "Partner",
        "Membership",
        "Role",
        "Program",
        "Participation",
        "Activity",
        "Commitment",
        "Body",
    ):
        kind = types[name]
        fields = {f["name"] for f in kind["fields"]}
        if "Node" not in {i["name"] for i in kind["interfaces"]}:
            missing.append(f"{name} does not implement Node")
        if "source" not in fields:
            missing.append(f"{name} has no source")
        if "provenance" not in fields and "history" not in fields:
            missing.append(f"{name} has neither provenance nor history")
    assert not missing, missing


async def test_activities_in_a_window_mark_what_the_record_cannot_place(coop: Coop) -> None:
    """The C40 Steering Committee meeting is dated "2020-12": it falls inside December for
    certain, but whether it fell on 2020-12-10..20 the record cannot tell. Undated
    activities cannot be placed in any window at all."""
    data = await coop.data(
        '{ month: activities(from: "2020-12-01", to: "2020-12-31") { nodes { key on certain } } '
        'part: activities(from: "2020-12-10", to: "2020-12-20") { nodes { key on certain } } }'
    )
    month = {n["key"]: n for n in data["month"]["nodes"]}
    part = {n["key"]: n for n in data["part"]["nodes"]}
    meeting = "c40-steering-committee-meeting-2020-12"
    assert month[meeting]["certain"] is True
    assert meeting in part, "it may fall in the window"
    assert part[meeting]["certain"] is False, part[meeting]
    undated = [n for n in part.values() if n["on"] is None]
    assert all(n["certain"] is False for n in undated), undated


async def test_every_collection_is_a_relay_connection(coop: Coop) -> None:
    """README/issue 5: 'Every collection is a Relay connection (totalCount, nodes,
    edges { cursor node }, pageInfo) with keyset cursors.'"""
    data = await coop.data(
        "{ __schema { types { name kind interfaces { name } fields { name type { kind name "
        "ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"
    )
    types = {t["name"]: t for t in data["__schema"]["types"]}
    nodes = {name for name, t in types.items() if {"name": "Node"} in (t["interfaces"] or [])}

    def element(kind: dict[str, Any]) -> tuple[bool, str | None]:
        is_list = False
        while kind.get("ofType"):
            is_list = is_list or kind["kind"] == "LIST"
            kind = kind["ofType"]
        return is_list or kind["kind"] == "LIST", kind["name"]

    plain_lists = []
    for name, kind in types.items():
        if kind["kind"] != "OBJECT" or name.startswith("__"):
            continue
        for field in kind["fields"] or []:
            is_list, of = element(field["type"])
            if is_list and (of in nodes or of == "Body") and not name.endswith("Connection"):
                plain_lists.append(f"{name}.{field['name']}: [{of}]")
    assert not plain_lists, plain_lists
