"""`coop history KEY`: every version behind a key, under the event that made it."""

from __future__ import annotations

import json

from tests.audit.conftest import HEAD, Coop


async def test_history_shows_each_version_with_its_event_actor_reason_and_source(
    sampled_url: str, coop: Coop
) -> None:
    ran = await coop(sampled_url, "history", "city-1@c40#1")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "city-1@c40#1: 2 versions made by 2 events"
    assert "position 7  " in ran.out
    assert "  membership city-1@c40#1: valid 2001 to (open); record position 7 to 22" in lines
    assert f"  membership city-1@c40#1: valid 2001-04 to (open); record position {HEAD}" in (
        "\n".join(lines)
    )
    assert "  actor: auditor-test; reason: the minutes give April; source: doc, section A" in lines
    assert "    member: city-1; network: c40; notes: n1, checked" in lines


async def test_history_as_json_and_an_unknown_key(sampled_url: str, coop: Coop) -> None:
    ran = await coop(sampled_url, "history", "city-1", "--json")
    assert ran.code == 0, ran.err
    found = json.loads(ran.out)
    assert found["key"] == "city-1"
    [version] = found["versions"]
    assert (version["object"], version["name"], version["record_from"]) == ("partner", "City 1", 6)
    assert version["made_by"]["type"] == "PartnerRegistered"
    assert version["made_by"]["actor"] == "system"
    missing = await coop(sampled_url, "history", "atlantis")
    assert missing.code == 1
    assert "nothing in the record has the key 'atlantis'" in missing.err
