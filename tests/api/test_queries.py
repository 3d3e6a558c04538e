"""Nested current and as-of queries over the seed history, through the real app."""

from __future__ import annotations

from tests.api.conftest import Client

TOKYO_NETWORKS = """query($asOf: Date) {
  partner(key: "tokyo", asOf: $asOf) {
    name
    memberships { totalCount nodes { network { key name } since until notes certain source { document section } } }
  }
}"""


async def test_current_memberships_keep_the_source_precision(client: Client) -> None:
    data = await client.data(TOKYO_NETWORKS)
    found = {m["network"]["key"]: m for m in data["partner"]["memberships"]["nodes"]}
    assert found["icap"]["since"] == "2009-05"
    assert found["c40"]["since"] == "2006"
    assert found["icap"]["until"] is None
    assert any("single city" in note for note in found["icap"]["notes"])
    assert found["c40"]["source"]["document"] == "tmg-international-cooperation"
    assert data["partner"]["memberships"]["totalCount"] == len(found)


async def test_as_of_answers_and_says_when_it_cannot_tell(client: Client) -> None:
    before_icap = await client.data(TOKYO_NETWORKS, {"asOf": "2008-01-01"})
    networks = {m["network"]["key"]: m for m in before_icap["partner"]["memberships"]["nodes"]}
    assert "icap" not in networks
    assert networks["c40"]["certain"] is True

    in_2006 = await client.data(TOKYO_NETWORKS, {"asOf": "2006-03-01"})
    c40 = [m for m in in_2006["partner"]["memberships"]["nodes"] if m["network"]["key"] == "c40"]
    assert [m["certain"] for m in c40] == [False]


async def test_members_of_a_network_with_unknown_starts(client: Client) -> None:
    query = """{ partner(key: "c40") { members(first: 50) { nodes { member { key } since certain } } } }"""
    data = await client.data(query)
    members = {m["member"]["key"]: m for m in data["partner"]["members"]["nodes"]}
    assert {"tokyo", "london", "new-york", "paris", "los-angeles"} <= members.keys()
    assert members["london"]["since"] is None or members["london"]["since"] == "unknown"
    data = await client.data(query.replace('key: "c40")', 'key: "c40", asOf: "2015-01-01")'))
    uncertain = {m["member"]["key"]: m["certain"] for m in data["partner"]["members"]["nodes"]}
    assert uncertain["london"] is False
    assert uncertain["tokyo"] is True


async def test_basis_is_echoed_in_extensions(client: Client) -> None:
    head = (await client.services.store.head()).position
    body = await client.post(
        '{ a: partner(key: "tokyo", asOf: "2010-01-01") { key } b: partners { totalCount } }'
    )
    assert body["extensions"]["basis"]["a"] == {
        "asOf": "2010-01-01",
        "during": None,
        "knownAt": None,
        "position": head,
    }
    assert body["extensions"]["basis"]["b"]["position"] == head


async def test_known_at_before_a_correction_shows_the_old_answer(client: Client) -> None:
    before = await client.data(
        '{ partner(key: "tokyo") { recordedAt memberships { nodes { id membershipId since } } } }'
    )
    moment = max(n for n in [before["partner"]["recordedAt"]])
    icap = next(m for m in before["partner"]["memberships"]["nodes"] if m["since"] == "2009-05")
    fix = """mutation($id: ID!) { correctMembership(input: {id: $id,
      since: "2009-04", reason: "the agreement was signed in April",
      source: {document: "tmg-international-cooperation", section: "Technical Exchange with Asian cities"}}) {
      membership { since } position } }"""
    done = await client.data(fix, {"id": icap["id"]}, role="editor")
    assert done["correctMembership"]["membership"]["since"] == "2009-04"

    query = """query($at: Int) { partner(key: "tokyo", atPosition: $at) {
      memberships { nodes { membershipId since } } } }"""
    old = await client.data(query, {"at": done["correctMembership"]["position"] - 1})
    new = await client.data(query)
    since = lambda d: {m["membershipId"]: m["since"] for m in d["partner"]["memberships"]["nodes"]}  # noqa: E731
    assert since(old)[icap["membershipId"]] == "2009-05"
    assert since(new)[icap["membershipId"]] == "2009-04"
    assert moment  # the partner's own record time is served


async def test_history_and_provenance_trace_to_the_source(client: Client) -> None:
    query = """{ partner(key: "icap") { provenance { nodes { position type reason source { document section } } } }
                 history(key: "icap") { nodes { kind version { eventType madeBy { type source { section } } } } } }"""
    data = await client.data(query)
    made = data["partner"]["provenance"]["nodes"]
    assert made[0]["type"] == "PartnerRegistered"
    assert made[0]["source"]["document"] == "tmg-international-cooperation"
    history = data["history"]["nodes"]
    assert history[0]["kind"] == "PARTNER"
    assert history[0]["version"]["madeBy"]["type"] == "PartnerRegistered"


async def test_actor_is_shown_to_auditors_only(client: Client) -> None:
    query = '{ partner(key: "tokyo") { provenance { nodes { actor } } } }'
    anonymous = await client.post(query)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    reader = await client.post(query, role="reader")
    assert reader["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    audited = await client.data(query, role="auditor")
    assert audited["partner"]["provenance"]["nodes"][0]["actor"] == "seed"


async def test_node_by_global_id_and_programs_and_activities(client: Client) -> None:
    data = await client.data(
        "{ programs(first: 20) { nodes { id key topics lead { key } partners { nodes { partner { key } } } } } }"
    )
    programs = {p["key"]: p for p in data["programs"]["nodes"]}
    beijing = next(p for p in programs.values() if "PM2.5" in p["topics"])
    assert "VOCs" in beijing["topics"]
    node = await client.data(
        "query($id: ID!) { node(id: $id) { ... on Program { key } } }", {"id": beijing["id"]}
    )
    assert node["node"]["key"] == beijing["key"]
    activities = await client.data(
        '{ activities(from: "2020-12-01", to: "2020-12-31") { nodes { name on mode } } }'
    )
    assert any(a["on"] == "2020-12" for a in activities["activities"]["nodes"])


async def test_commitment_of_the_december_2020_meeting(client: Client) -> None:
    data = await client.data(
        "{ commitments { nodes { statement focusAreas by { key } byTitle activity { name on } } } }"
    )
    commitment = data["commitments"]["nodes"][0]
    assert commitment["by"]["key"] == "tokyo"
    assert set(commitment["focusAreas"]) >= {"sustainable buildings", "green hydrogen"}
    assert commitment["activity"]["on"] == "2020-12"


async def test_an_activity_and_a_commitment_by_key_and_activities_by_words(
    client: Client,
) -> None:
    meeting = "c40-steering-committee-meeting-2020-12"
    data = await client.data(
        "query($key: String!) { activity(key: $key) { name on organiser { key }"
        ' commitments { nodes { key } } } nothing: activity(key: "nothing") { key } }',
        {"key": meeting},
    )
    assert data["activity"]["on"] == "2020-12"
    assert data["activity"]["organiser"]["key"] == "c40"
    assert data["nothing"] is None
    [announced] = data["activity"]["commitments"]["nodes"]
    found = await client.data(
        "query($key: String!) { commitment(key: $key) { byTitle activity { key } } }",
        {"key": announced["key"]},
    )
    assert found["commitment"] == {"byTitle": "Governor of Tokyo", "activity": {"key": meeting}}
    # Before the meeting was recorded, neither was on record.
    before = await client.data(
        "query($key: String!, $c: String!) { activity(key: $key, atPosition: 1) { key }"
        " commitment(key: $c, atPosition: 1) { key } }",
        {"key": meeting, "c": announced["key"]},
    )
    assert before == {"activity": None, "commitment": None}
    words = await client.data('{ activities(search: "WASTE") { nodes { key } } }')
    assert [a["key"] for a in words["activities"]["nodes"]] == [
        "online-international-waste-management-workshop"
    ]


async def test_keyset_pagination_walks_every_partner_once(client: Client) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = await client.data(
            "query($after: String) { partners(first: 3, after: $after) { totalCount edges { cursor node { key } } pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        connection = page["partners"]
        seen += [edge["node"]["key"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == connection["totalCount"]


async def test_a_programs_status_is_its_status_on_the_day_asked(client: Client) -> None:
    launch = """mutation { launchProgram(input: {key: "exchange-2015", name: "Exchange",
      field: AIR_QUALITY, kind: RESEARCHER_EXCHANGE, lead: "tokyo", since: "2015"}) {
      program { id } } }"""
    conclude = """mutation($id: ID!) { concludeProgram(input: {id: $id, until: "2018-06"})
      { position } }"""
    launched = await client.data(launch, role="editor")
    await client.data(conclude, {"id": launched["launchProgram"]["program"]["id"]}, role="editor")
    one = """query($asOf: Date) { program(key: "exchange-2015", asOf: $asOf) { status certain } }"""
    listed = """query($asOf: Date, $status: ProgramStatus) {
      programs(status: $status, asOf: $asOf, first: 100) { nodes { key status certain } } }"""

    async def keys(as_of: str | None, status: str) -> dict[str, dict[str, object]]:
        data = await client.data(listed, {"asOf": as_of, "status": status})
        return {p["key"]: p for p in data["programs"]["nodes"]}

    assert (await client.data(one))["program"]["status"] == "CONCLUDED"
    during = (await client.data(one, {"asOf": "2016-01-01"}))["program"]
    assert during == {"status": "ACTIVE", "certain": True}
    assert "exchange-2015" in await keys("2016-01-01", "ACTIVE")
    assert "exchange-2015" not in await keys("2016-01-01", "CONCLUDED")
    after = await keys("2019-01-01", "CONCLUDED")
    assert after["exchange-2015"] == {
        "key": "exchange-2015",
        "status": "CONCLUDED",
        "certain": True,
    }
    assert "exchange-2015" not in await keys("2019-01-01", "ACTIVE")
    # In June 2018 the dates cannot tell whether it had ended yet.
    june = (await client.data(one, {"asOf": "2018-06-15"}))["program"]
    assert june == {"status": "ACTIVE", "certain": False}
    assert "exchange-2015" in await keys(None, "CONCLUDED")


async def test_every_object_shows_where_it_came_from(client: Client) -> None:
    """Every Node type has `source`, `provenance` and `history`, and they answer."""
    types = await client.data("{ __schema { types { name interfaces { name } fields { name } } } }")
    nodes = [t for t in types["__schema"]["types"] if {"name": "Node"} in (t["interfaces"] or [])]
    assert len(nodes) >= 9
    for kind in nodes:
        assert {"source", "provenance", "history"} <= {f["name"] for f in kind["fields"]}, kind
    data = await client.data(
        """{ sources(first: 1) { nodes { key source { document } provenance { nodes { type } }
               history { nodes { madeBy { type } } } } }
             partner(key: "c40") { bodies { nodes { key history { nodes { madeBy { type } } } } } } }"""
    )
    source = data["sources"]["nodes"][0]
    assert source["provenance"]["nodes"][0]["type"] == "SourceRegistered"
    assert source["history"]["nodes"][0]["madeBy"]["type"] == "SourceRegistered"
    body = data["partner"]["bodies"]["nodes"][0]
    assert body["history"]["nodes"][0]["madeBy"]["type"] == "BodyRegistered"
