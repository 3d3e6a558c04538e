"""The read side of the client contract: every fact of the seed answerable, period questions,
enums, names, paging both ways, and persisted queries."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.acceptance.support import Coop, codes

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def coop(shared: Coop) -> Coop:
    """This module only reads: its tests share one seeded service."""
    return shared


def node_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


# --- every value of every seed event, through the API ------------------------------------

Read = Callable[[dict[str, Any]], Any]


def key(field: str) -> Read:
    return lambda answer: (answer[field] or {}).get("key")


def keys(field: str) -> Read:
    return lambda answer: [node["key"] for node in answer[field]["nodes"]]


def plain(field: str) -> Read:
    return lambda answer: answer[field]


SOURCE = "key title publisher url sections"
PARTNER = "key name kind country region description"
PROGRAM = (
    "key name field kind topics lead { key } network { key } since description"
    " partners { nodes { participationId since partner { key } } }"
)
MEMBERSHIP = "membershipId since notes member { key } network { key }"
ROLE = "roleId title holderTitle since heldAsOf notes holder { key } network { key } body { key }"
BODY = "key name description size sizeAsOf network { key }"
ACTIVITY = (
    "key name kind on mode field organiser { key } participants { nodes { key } }"
    " representatives network { key } body { key } program { key } description"
)
COMMITMENT = (
    "key by { key } byTitle on activity { key } statement focusAreas"
    " collaborators { totalCount nodes { name partner { key } } }"
)

# For each event type: how to ask for the object it made, and how each payload field reads.
ASK: dict[str, tuple[Callable[[dict[str, Any]], tuple[str, dict[str, Any]]], dict[str, Read]]] = {
    "SourceRegistered": (
        lambda d: ("node", {"id": node_id("Source", d["key"])}),
        {f: plain(f) for f in ("key", "title", "publisher", "url", "sections")},
    ),
    "PartnerRegistered": (
        lambda d: ("node", {"id": node_id("Partner", d["key"])}),
        {f: plain(f) for f in ("key", "name", "kind", "country", "region", "description")},
    ),
    "ProgramLaunched": (
        lambda d: ("node", {"id": node_id("Program", d["key"])}),
        {
            **{f: plain(f) for f in ("key", "name", "field", "kind", "topics", "since")},
            "description": plain("description"),
            "lead": key("lead"),
            "network": key("network"),
        },
    ),
    "PartnerJoinedProgram": (
        lambda d: ("node", {"id": node_id("Participation", d["participation_id"])}),
        {
            "participation_id": plain("participationId"),
            "program": key("program"),
            "partner": key("partner"),
            "since": plain("since"),
        },
    ),
    "MembershipStarted": (
        lambda d: ("node", {"id": node_id("Membership", d["membership_id"])}),
        {
            "membership_id": plain("membershipId"),
            "member": key("member"),
            "network": key("network"),
            "since": plain("since"),
            "notes": plain("notes"),
        },
    ),
    "RoleAssigned": (
        lambda d: ("node", {"id": node_id("Role", d["role_id"])}),
        {
            "role_id": plain("roleId"),
            "holder": key("holder"),
            "network": key("network"),
            "body": key("body"),
            "position": plain("title"),
            "holder_title": plain("holderTitle"),
            "since": plain("since"),
            "held_as_of": plain("heldAsOf"),
            "notes": plain("notes"),
        },
    ),
    "BodyRegistered": (
        lambda d: ("node", {"id": node_id("Body", f"{d['network']}.{d['body']}")}),
        {
            "network": key("network"),
            "body": plain("key"),
            "name": plain("name"),
            "description": plain("description"),
        },
    ),
    "BodySizeRecorded": (
        lambda d: ("node", {"id": node_id("Body", f"{d['network']}.{d['body']}")}),
        {
            "network": key("network"),
            "body": plain("key"),
            "size": plain("size"),
            "as_of": plain("sizeAsOf"),
        },
    ),
    "ActivityRecorded": (
        lambda d: ("node", {"id": node_id("Activity", d["key"])}),
        {
            **{f: plain(f) for f in ("key", "name", "kind", "on", "mode", "field")},
            "representatives": plain("representatives"),
            "description": plain("description"),
            "organiser": key("organiser"),
            "participants": keys("participants"),
            "network": key("network"),
            "body": key("body"),
            "program": key("program"),
        },
    ),
    "CommitmentAnnounced": (
        lambda d: ("node", {"id": node_id("Commitment", d["key"])}),
        {
            "key": plain("key"),
            "by": key("by"),
            "by_title": plain("byTitle"),
            "on": plain("on"),
            "activity": key("activity"),
            "statement": plain("statement"),
            "focus_areas": plain("focusAreas"),
            "collaborators": lambda a: [n["name"] for n in a["collaborators"]["nodes"]],
        },
    ),
}
SELECTION = {
    "SourceRegistered": f"... on Source {{ {SOURCE} }}",
    "PartnerRegistered": f"... on Partner {{ {PARTNER} }}",
    "ProgramLaunched": f"... on Program {{ {PROGRAM} }}",
    "PartnerJoinedProgram": (
        "... on Participation { participationId since partner { key } program { key } }"
    ),
    "MembershipStarted": f"... on Membership {{ {MEMBERSHIP} }}",
    "RoleAssigned": f"... on Role {{ {ROLE} }}",
    "BodyRegistered": f"... on Body {{ {BODY} }}",
    "BodySizeRecorded": f"... on Body {{ {BODY} }}",
    "ActivityRecorded": f"... on Activity {{ {ACTIVITY} }}",
    "CommitmentAnnounced": f"... on Commitment {{ {COMMITMENT} }}",
}
ENUM_FIELDS = {"kind", "field", "mode"}
KEY_ORDERED = {"participants"}  # a connection of partners, in key order


def expected(field: str, value: Any) -> Any:
    """A payload value as the API spells it: enums by name, an unknown date as null."""
    if field in ENUM_FIELDS and isinstance(value, str):
        return value.upper()
    if field in KEY_ORDERED:
        return sorted(value)
    if value == "unknown":
        return None
    return value


async def test_every_value_of_every_seed_event_is_answerable(coop: Coop) -> None:
    log = await coop.data("{ events(after: 0, first: 100) { nodes { type data } } }")
    seen = set()
    for event in log["events"]["nodes"]:
        kind, data = event["type"], event["data"]
        ask, fields = ASK[kind]
        assert set(fields) == set(data), f"{kind}: no way to ask for {set(data) - set(fields)}"
        root, variables = ask(data)
        answer = await coop.data(
            f"query($id: ID!) {{ {root}(id: $id) {{ {SELECTION[kind]} }} }}", variables
        )
        got = answer[root]
        assert got is not None, (kind, data)
        for field, read in fields.items():
            assert read(got) == expected(field, data[field]), (kind, field, data[field], got)
        seen.add(kind)
    assert seen == set(ASK)  # the seed holds every kind of event the walk knows


async def test_the_commitments_collaborators_are_answered_as_the_source_gives_them(
    coop: Coop,
) -> None:
    data = await coop.data(
        '{ commitments(by: "tokyo") { nodes { collaborators { totalCount'
        " nodes { name partner { key } } } } } }"
    )
    (commitment,) = data["commitments"]["nodes"]
    assert commitment["collaborators"] == {
        "totalCount": 3,
        "nodes": [
            {"name": "businesses", "partner": None},
            {"name": "NGOs", "partner": None},
            {"name": "C40 member cities", "partner": None},
        ],
    }


# --- period questions --------------------------------------------------------------------

MEMBERS = """query($asOf: Date, $during: PartialDate) {
  partner(key: "c40") { members(asOf: $asOf, during: $during) { nodes { member { key } certain } } }
}"""


async def members(coop: Coop, **when: str) -> dict[str, bool]:
    data = await coop.data(MEMBERS, when)
    return {n["member"]["key"]: n["certain"] for n in data["partner"]["members"]["nodes"]}


async def test_who_were_c40s_members_in_2007(coop: Coop) -> None:
    assert await members(coop, during="2007") == {
        "tokyo": True,  # joined in 2006: certainly a member on some day of 2007
        "london": False,  # no date on record: the record cannot tell
        "los-angeles": False,
        "new-york": False,
        "paris": False,
    }
    # Within the year Tokyo joined, it was a member on its last day at least.
    assert (await members(coop, during="2006"))["tokyo"] is True
    assert (await members(coop, asOf="2006-03-01"))["tokyo"] is False
    assert "tokyo" not in await members(coop, during="2005")


async def test_a_month_the_record_names_and_a_day_it_cannot_settle(coop: Coop) -> None:
    query = """query($during: PartialDate, $asOf: Date) { partner(key: "tokyo") {
      memberships(during: $during, asOf: $asOf) { nodes { network { key } certain } } } }"""
    in_may = await coop.data(query, {"during": "2009-05"})
    assert {"network": {"key": "icap"}, "certain": True} in in_may["partner"]["memberships"][
        "nodes"
    ]
    mid_may = await coop.data(query, {"asOf": "2009-05-15"})
    assert {"network": {"key": "icap"}, "certain": False} in mid_may["partner"]["memberships"][
        "nodes"
    ]


async def test_during_is_inherited_and_echoed(coop: Coop) -> None:
    body = await coop.gql(
        '{ partner(key: "tokyo", during: "2007") { memberships { nodes { network { key } } } } }'
    )
    assert {n["network"]["key"] for n in body["data"]["partner"]["memberships"]["nodes"]} == {"c40"}
    assert body["extensions"]["basis"]["partner"]["during"] == "2007"
    assert body["extensions"]["basis"]["partner"]["asOf"] is None


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ('{ partner(key: "c40") { members(asOf: "2007") { totalCount } } }', None),
        ("query($d: Date) { partners(asOf: $d) { totalCount } }", {"d": "2007"}),
        ('{ partners(asOf: "2020-12") { totalCount } }', None),
    ],
)
async def test_a_year_or_month_given_as_a_day_points_to_during(
    coop: Coop, document: str, variables: dict[str, Any] | None
) -> None:
    body = await coop.gql(document, variables)
    assert codes(body) == ["BAD_USER_INPUT"], body
    message = body["errors"][0]["message"]
    assert "during" in message
    assert "isoformat" not in message
    assert "Python" not in message


async def test_as_of_and_during_together_are_refused(coop: Coop) -> None:
    body = await coop.gql('{ partners(asOf: "2007-01-01", during: "2007") { totalCount } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "not both" in body["errors"][0]["message"]


# --- enums, names, paging ----------------------------------------------------------------


async def test_closed_sets_are_enums_on_filters_and_answers(coop: Coop) -> None:
    networks = await coop.data("{ partners(kind: NETWORK) { nodes { key kind } } }")
    assert {n["key"]: n["kind"] for n in networks["partners"]["nodes"]} == {
        "c40": "NETWORK",
        "icap": "NETWORK",
    }
    wrong = await coop.gql("{ partners(kind: PLANET) { totalCount } }")
    assert codes(wrong) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "PLANET" in wrong["errors"][0]["message"]
    waste = await coop.data(
        "{ programs(field: WASTE_MANAGEMENT, status: ACTIVE) { nodes { key field kind status } } }"
    )
    assert waste["programs"]["nodes"]
    assert {n["field"] for n in waste["programs"]["nodes"]} == {"WASTE_MANAGEMENT"}
    assert {n["status"] for n in waste["programs"]["nodes"]} == {"ACTIVE"}
    online = await coop.data("{ activities(kind: WORKSHOP) { nodes { key mode } } }")
    assert online["activities"]["nodes"] == [
        {"key": "online-international-waste-management-workshop", "mode": "ONLINE"}
    ]


async def test_a_role_has_a_title_and_a_log_position(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "tokyo") { roles { nodes { title holderTitle position } } } }'
    )
    roles = data["partner"]["roles"]["nodes"]
    assert {r["title"] for r in roles} == {"vice chair", "member"}
    head = await coop.head()
    assert all(isinstance(r["position"], int) and 0 < r["position"] <= head for r in roles)


async def test_root_collections_page_backward_too(coop: Coop) -> None:
    everyone = await coop.data("{ partners { nodes { key } } }")
    keys = [n["key"] for n in everyone["partners"]["nodes"]]
    last_two = await coop.data(
        "{ partners(last: 2) { nodes { key } pageInfo { hasPreviousPage hasNextPage startCursor } } }"
    )
    assert [n["key"] for n in last_two["partners"]["nodes"]] == keys[-2:]
    info = last_two["partners"]["pageInfo"]
    assert (info["hasPreviousPage"], info["hasNextPage"]) == (True, False)
    before = await coop.data(
        "query($c: String) { partners(last: 2, before: $c) { nodes { key } } }",
        {"c": info["startCursor"]},
    )
    assert [n["key"] for n in before["partners"]["nodes"]] == keys[-4:-2]


async def test_history_and_provenance_are_connections(coop: Coop) -> None:
    data = await coop.data(
        '{ partner(key: "tokyo") { history(first: 1) { totalCount nodes { position recordedAt'
        " supersededAtPosition madeBy { type } } } provenance { totalCount nodes { type } } } }"
    )
    history = data["partner"]["history"]
    assert history["totalCount"] == 1
    assert history["nodes"][0]["madeBy"] == {"type": "PartnerRegistered"}
    assert history["nodes"][0]["supersededAtPosition"] is None
    assert data["partner"]["provenance"]["nodes"] == [{"type": "PartnerRegistered"}]


async def test_commitments_within_a_date_range(coop: Coop) -> None:
    query = "query($f: Date, $t: Date) { commitments(from: $f, to: $t) { nodes { key certain } } }"
    in_2020 = await coop.data(query, {"f": "2020-01-01", "t": "2020-12-31"})
    assert in_2020["commitments"]["nodes"] == [
        {"key": "tokyo-climate-action-worldwide-movement", "certain": True}
    ]
    part = await coop.data(query, {"f": "2020-12-10", "t": "2020-12-31"})
    assert part["commitments"]["nodes"][0]["certain"] is False  # "2020-12" may fall outside
    assert (await coop.data(query, {"f": "2021-01-01"}))["commitments"]["nodes"] == []


# --- persisted queries -------------------------------------------------------------------

TOKYO = '{ partner(key: "tokyo") { name } }'


def persisted(document: str) -> dict[str, Any]:
    digest = hashlib.sha256(document.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_persisted_query_is_asked_for_then_answered_by_its_hash(coop: Coop) -> None:
    document = TOKYO.replace("name", "name key")  # a document no other test has sent
    unknown = await coop.http.post("/graphql", json={"extensions": persisted(document)})
    assert unknown.status_code == 200
    assert codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    first = await coop.http.post(
        "/graphql", json={"query": document, "extensions": persisted(document)}
    )
    assert first.json()["data"] == {
        "partner": {"name": "Tokyo Metropolitan Government", "key": "tokyo"}
    }
    by_hash = await coop.http.post("/graphql", json={"extensions": persisted(document)})
    assert by_hash.json()["data"] == first.json()["data"]
    over_get = await coop.http.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(document))},
        headers={"accept": "application/json"},
    )
    assert over_get.status_code == 200
    assert over_get.json()["data"] == first.json()["data"]


async def test_a_hash_that_does_not_match_its_document_is_refused(coop: Coop) -> None:
    wrong = await coop.http.post(
        "/graphql", json={"query": TOKYO, "extensions": persisted(TOKYO + " ")}
    )
    assert codes(wrong.json()) == ["BAD_USER_INPUT"]
    assert "does not match" in wrong.json()["errors"][0]["message"]
