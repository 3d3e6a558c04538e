"""The write side of the client contract: retracting a fact recorded in error, dated updates
and corrections, objects named by their id, and conflicts a client can read."""

from __future__ import annotations

import base64
from typing import Any

from tests.acceptance.support import Coop, codes

WHY = "entered from the wrong document"


def node_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


async def register_osaka(coop: Coop) -> str:
    await coop.ok("registerPartner", {"key": "osaka", "name": "Osaka", "kind": "CITY"})
    started = await coop.ok(
        "startMembership",
        {"member": "osaka", "network": "c40", "since": "2015"},
        "membership { id } position",
    )
    membership_id: str = started["membership"]["id"]
    return membership_id


async def osaka_in_c40(coop: Coop, **when: Any) -> list[dict[str, Any]]:
    query = """query($asOf: Date, $atPosition: Int) { partner(key: "osaka") {
      memberships(asOf: $asOf, atPosition: $atPosition) { nodes { membershipId since } } } }"""
    data = await coop.data(query, when)
    nodes: list[dict[str, Any]] = data["partner"]["memberships"]["nodes"]
    return nodes


async def test_a_retracted_membership_is_gone_now_and_as_of_but_not_as_the_record_stood(
    coop: Coop,
) -> None:
    membership = await register_osaka(coop)
    before = await coop.head()
    retracted = await coop.ok(
        "retractMembership",
        {"id": membership, "reason": WHY},
        "membership { membershipId since } position",
    )
    assert retracted["membership"] == {"membershipId": "osaka@c40#1", "since": "2015"}
    assert retracted["position"] == before + 1
    assert await osaka_in_c40(coop) == []
    assert await osaka_in_c40(coop, asOf="2016-01-01") == []
    assert await osaka_in_c40(coop, atPosition=before) == [
        {"membershipId": "osaka@c40#1", "since": "2015"}
    ]
    assert (await coop.data(f'{{ node(id: "{membership}") {{ id }} }}'))["node"] is None


async def test_history_provenance_and_recorded_changes_show_the_retraction(coop: Coop) -> None:
    membership = await register_osaka(coop)
    before = await coop.head()
    await coop.ok("retractMembership", {"id": membership, "reason": WHY})
    history = await coop.data(
        '{ history(key: "osaka@c40#1") { nodes { kind version { supersededAtPosition'
        " supersededBy { type reason } } } } }"
    )
    assert history["history"]["nodes"] == [
        {
            "kind": "MEMBERSHIP",
            "version": {
                "supersededAtPosition": before + 1,
                "supersededBy": {"type": "MembershipRetracted", "reason": WHY},
            },
        }
    ]
    then = await coop.data(
        """query($at: Int) { partner(key: "osaka") { memberships(atPosition: $at) {
        nodes { provenance { nodes { type reason } } } } } }""",
        {"at": before + 1},
    )
    assert then["partner"]["memberships"]["nodes"] == []  # gone at the retraction itself
    earlier = await coop.data(
        """query($at: Int) { partner(key: "osaka") { memberships(atPosition: $at) {
        nodes { provenance { nodes { type } } } } } }""",
        {"at": before},
    )
    assert earlier["partner"]["memberships"]["nodes"][0]["provenance"]["nodes"] == [
        {"type": "MembershipStarted"}
    ]
    changes = await coop.data(
        "query($a: Int!) { recordedChanges(afterPosition: $a) { nodes { kind change key } } }",
        {"a": before},
    )
    assert changes["recordedChanges"]["nodes"] == [
        {"kind": "MEMBERSHIP", "change": "RETRACTED", "key": "osaka@c40#1"}
    ]


async def test_what_others_rest_on_is_not_withdrawn_and_they_are_named(coop: Coop) -> None:
    head = await coop.head()
    tokyo = await coop.mutate(
        "retractPartner", {"id": node_id("Partner", "tokyo"), "reason": WHY}, "position"
    )
    assert codes(tokyo) == ["CONFLICT"]
    assert "membership tokyo@c40#1" in tokyo["errors"][0]["message"]
    c40_in_tokyo = await coop.mutate(
        "retractMembership", {"id": node_id("Membership", "tokyo@c40#1"), "reason": WHY}, "position"
    )
    assert codes(c40_in_tokyo) == ["CONFLICT"]
    assert "tokyo@c40#role-" in c40_in_tokyo["errors"][0]["message"]
    meeting = await coop.mutate(
        "retractActivity",
        {"id": node_id("Activity", "c40-steering-committee-meeting-2020-12"), "reason": WHY},
        "position",
    )
    assert codes(meeting) == ["CONFLICT"]
    assert "commitment tokyo-climate-action-worldwide-movement" in meeting["errors"][0]["message"]
    assert await coop.head() == head


async def test_a_partner_nothing_refers_to_is_withdrawn_and_its_key_is_free_again(
    coop: Coop,
) -> None:
    await coop.ok("registerPartner", {"key": "osaka", "name": "Osaka", "kind": "CITY"})
    gone = await coop.ok(
        "retractPartner", {"id": node_id("Partner", "osaka"), "reason": WHY}, "partner { name }"
    )
    assert gone["partner"] == {"name": "Osaka"}
    assert (await coop.data('{ partner(key: "osaka") { key } }'))["partner"] is None
    again = await coop.ok(
        "registerPartner",
        {"key": "osaka", "name": "Osaka City", "kind": "CITY"},
        "partner { name }",
    )
    assert again["partner"] == {"name": "Osaka City"}


async def test_commitment_activity_and_program_are_withdrawn_in_turn(coop: Coop) -> None:
    program = node_id("Program", "c40-private-building-efficiency")
    await coop.ok(
        "retractCommitment",
        {"id": node_id("Commitment", "tokyo-climate-action-worldwide-movement"), "reason": WHY},
    )
    await coop.ok(
        "retractActivity",
        {"id": node_id("Activity", "c40-steering-committee-meeting-2020-12"), "reason": WHY},
    )
    await coop.ok("retractProgram", {"id": program, "reason": WHY})
    data = await coop.data(
        '{ commitments(by: "tokyo") { totalCount } program(key: "c40-private-building-efficiency")'
        ' { key } partner(key: "tokyo") { programs { nodes { key } } } }'
    )
    assert data["commitments"]["totalCount"] == 0
    assert data["program"] is None
    assert "c40-private-building-efficiency" not in {
        n["key"] for n in data["partner"]["programs"]["nodes"]
    }


async def test_a_retraction_says_why(coop: Coop) -> None:
    membership = await register_osaka(coop)
    head = await coop.head()
    missing = await coop.mutate("retractMembership", {"id": membership}, "position")
    assert codes(missing) == ["BAD_USER_INPUT"]  # the variable lacks a required field
    blank = await coop.mutate("retractMembership", {"id": membership, "reason": " "}, "position")
    assert codes(blank) == ["BAD_USER_INPUT"]
    assert "reason" in blank["errors"][0]["message"]
    assert await coop.head() == head


async def test_a_change_in_the_world_has_a_date_and_a_correction_fixes_what_was_recorded(
    coop: Coop,
) -> None:
    await coop.ok("registerPartner", {"key": "kyoto", "name": "Kyoto", "kind": "CITY"})
    kyoto = node_id("Partner", "kyoto")
    name = 'query($d: Date) { partner(key: "kyoto", asOf: $d) { name } }'

    async def named(day: str) -> str:
        found: str = (await coop.data(name, {"d": day}))["partner"]["name"]
        return found

    await coop.ok("correctPartner", {"id": kyoto, "name": "Kyoto Prefecture"})
    assert await named("2000-01-01") == "Kyoto Prefecture"  # it was always so: a fix
    undated = await coop.mutate("updatePartner", {"id": kyoto, "name": "Kyoto City"}, "position")
    assert codes(undated) == ["BAD_USER_INPUT"]
    assert "effective" in undated["errors"][0]["message"]
    await coop.ok("updatePartner", {"id": kyoto, "name": "Kyoto City", "effective": "2010"})
    assert await named("2000-01-01") == "Kyoto Prefecture"  # a change in the world, from 2010
    assert await named("2011-01-01") == "Kyoto City"
    await coop.ok("correctPartner", {"id": kyoto, "name": "City of Kyoto"})
    assert await named("2011-01-01") == "City of Kyoto"  # the fix is to what holds now
    assert await named("2000-01-01") == "Kyoto Prefecture"


async def test_an_object_is_named_by_its_id_and_of_its_own_type(coop: Coop) -> None:
    membership = await register_osaka(coop)
    fixed = await coop.ok(
        "correctMembership", {"id": membership, "since": "2016"}, "membership { since }"
    )
    assert fixed["membership"] == {"since": "2016"}
    wrong = await coop.mutate(
        "endMembership", {"id": node_id("Partner", "osaka"), "until": "2020"}, "position"
    )
    assert codes(wrong) == ["BAD_USER_INPUT"]
    assert "Membership" in wrong["errors"][0]["message"]
    nowhere = await coop.mutate(
        "endMembership", {"id": node_id("Membership", "osaka@icap#1"), "until": "2020"}, "position"
    )
    assert codes(nowhere) == ["NOT_FOUND"]


async def test_a_version_conflict_carries_the_versions(coop: Coop) -> None:
    await coop.ok("registerPartner", {"key": "kobe", "name": "Kobe", "kind": "CITY"})
    stale = await coop.mutate(
        "correctPartner",
        {"id": node_id("Partner", "kobe"), "name": "Kobe City", "expectedVersion": 3},
        "position",
    )
    assert codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"] == {
        "code": "CONFLICT",
        "streamId": "partner:kobe",
        "expectedVersion": 3,
        "actualVersion": 1,
    }
