"""Time travel and history that need writes: corrections, updates, known-at, page caps."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tests.acceptance.support import Coop, codes
from tests.acceptance.test_queries import MEMBERSHIPS, PAGE, by_network


async def test_known_at_answers_as_the_record_stood(coop: Coop) -> None:
    seeded = await coop.last_event()
    membership = await coop.id_of("membership", "tokyo@c40#1")
    await asyncio.sleep(0.05)
    correction = await coop.ok(
        "correctMembership",
        {
            "id": membership,
            "since": "2007",
            "reason": "QA: the source was misread",
        },
    )
    assert correction["position"] == seeded["position"] + 1

    now = await coop.data(MEMBERSHIPS, {"key": "tokyo"})
    assert by_network(now["partner"])["c40"]["since"] == "2007"

    body = await coop.gql(MEMBERSHIPS, {"key": "tokyo", "knownAt": seeded["recordedAt"]})
    assert by_network(body["data"]["partner"])["c40"]["since"] == "2006"
    basis = body["extensions"]["basis"]["partner"]
    assert basis["position"] == seeded["position"]
    assert datetime.fromisoformat(basis["knownAt"]) == datetime.fromisoformat(seeded["recordedAt"])

    by_position = await coop.data(MEMBERSHIPS, {"key": "tokyo", "atPosition": seeded["position"]})
    assert by_network(by_position["partner"])["c40"]["since"] == "2006"

    # both clocks: on 2006-06-01, as the record stood before the correction and after it
    then = await coop.data(
        MEMBERSHIPS, {"key": "tokyo", "asOf": "2006-06-01", "knownAt": seeded["recordedAt"]}
    )
    assert by_network(then["partner"])["c40"]["certain"] is False
    after = await coop.data(MEMBERSHIPS, {"key": "tokyo", "asOf": "2006-06-01"})
    assert "c40" not in by_network(after["partner"])

    # knownAt on the root reaches nested fields too
    nested = await coop.data(
        'query($t: DateTime) { partner(key: "c40", knownAt: $t) { members(first: 50) '
        "{ nodes { member { key } since } } } }",
        {"t": seeded["recordedAt"]},
    )
    members = {n["member"]["key"]: n for n in nested["partner"]["members"]["nodes"]}
    assert members["tokyo"]["since"] == "2006"


async def test_update_in_valid_time_and_in_record_time(coop: Coop) -> None:
    seeded = await coop.last_event()
    await asyncio.sleep(0.05)
    tokyo = await coop.id_of("partner", "tokyo")
    await coop.ok("updatePartner", {"id": tokyo, "name": "Tokyo QA", "effective": "2022"})
    query = (
        'query($a: Date, $k: DateTime) { partner(key: "tokyo", asOf: $a, knownAt: $k) { name } }'
    )
    assert (await coop.data(query, {"a": "2023-06-01"}))["partner"]["name"] == "Tokyo QA"
    assert (await coop.data(query, {"a": "2021-06-01"}))["partner"]["name"] == (
        "Tokyo Metropolitan Government"
    )
    old = await coop.data(query, {"a": "2023-06-01", "k": seeded["recordedAt"]})
    assert old["partner"]["name"] == "Tokyo Metropolitan Government"


async def test_limits_are_settings(start: Any) -> None:
    async with start(max_page_size=3, max_query_depth=4, max_aliases=2) as coop:
        body = await coop.gql(PAGE, {"first": 50})
        if body.get("errors"):
            assert codes(body) == ["BAD_USER_INPUT"], body
        else:
            assert len(body["data"]["partners"]["nodes"]) <= 3
        default = await coop.gql(PAGE, {})
        assert len(default["data"]["partners"]["nodes"]) == 3
        assert default["data"]["partners"]["pageInfo"]["hasNextPage"] is True

        nested = await coop.gql(
            '{ partner(key: "c40") { members(first: 50) { nodes { member { key } } } } }'
        )
        if nested.get("errors"):
            assert codes(nested) == ["BAD_USER_INPUT"], nested
        else:
            assert len(nested["data"]["partner"]["members"]["nodes"]) <= 3
        log = await coop.gql("{ events(after: 0, first: 50) { nodes { position } } }")
        if log.get("errors"):
            assert codes(log) == ["BAD_USER_INPUT"], log
        else:
            assert len(log["data"]["events"]["nodes"]) <= 3

        deep = await coop.gql(
            '{ partner(key: "tokyo") { memberships { nodes { network { members { nodes '
            "{ member { key } } } } } } } }"
        )
        assert deep.get("errors"), "deeper than COOP_MAX_QUERY_DEPTH=4"
        assert "depth" in deep["errors"][0]["message"].lower()
        aliases = await coop.gql(
            '{ a: partner(key: "tokyo") { key } b: partner(key: "c40") { key } c: partner(key: "icap") { key } }'
        )
        assert aliases.get("errors"), "3 aliases, over COOP_MAX_ALIASES=2"
        assert "alias" in aliases["errors"][0]["message"].lower()


async def test_history_changes_and_recorded_changes(coop: Coop) -> None:
    before = (
        await coop.data(
            '{ history(key: "tokyo@c40#1") { nodes { key version { eventType values position } } } }'
        )
    )["history"]["nodes"]
    assert before
    assert all(entry["key"] == "tokyo@c40#1" for entry in before)
    membership = await coop.id_of("membership", "tokyo@c40#1")
    head = await coop.head()
    await coop.ok("correctMembership", {"id": membership, "since": "2006-04"})
    after = (
        await coop.data(
            '{ history(key: "tokyo@c40#1") { nodes { key version { eventType position'
            " supersededAtPosition } } } }"
        )
    )["history"]["nodes"]
    assert len(after) > len(before)
    assert any(entry["version"]["position"] == head + 1 for entry in after)

    changes = (
        await coop.data(
            '{ changes(from: "2009-01-01", to: "2009-12-31") { nodes { kind change key } } }'
        )
    )["changes"]["nodes"]
    assert "tokyo@icap#1" in {c["key"] for c in changes}, changes
    quiet = (
        await coop.data('{ changes(from: "2010-01-01", to: "2010-12-31") { nodes { key } } }')
    )["changes"]["nodes"]
    assert "tokyo@icap#1" not in {c["key"] for c in quiet}

    recorded = (
        await coop.data(
            "query($a: Int!) { recordedChanges(afterPosition: $a) { nodes { key kind change } } }",
            {"a": head},
        )
    )["recordedChanges"]["nodes"]
    assert [c["key"] for c in recorded] == ["tokyo@c40#1"], recorded


async def test_cursors_are_keysets_not_offsets(coop: Coop) -> None:
    first = (await coop.data(PAGE, {"first": 4}))["partners"]
    assert [n["key"] for n in first["nodes"]] == ["beijing", "c40", "icap", "london"]
    await coop.ok("registerPartner", {"key": "aachen", "name": "Aachen", "kind": "CITY"})
    second = (await coop.data(PAGE, {"first": 4, "after": first["pageInfo"]["endCursor"]}))[
        "partners"
    ]
    assert [n["key"] for n in second["nodes"]] == ["los-angeles", "new-york", "paris", "tokyo"]
    assert second["totalCount"] == 10


async def test_changes_between_two_days_as_the_record_stood(coop: Coop) -> None:
    seeded = await coop.last_event()
    membership = await coop.id_of("membership", "tokyo@c40#1")
    await asyncio.sleep(0.05)
    await coop.ok("correctMembership", {"id": membership, "since": "2007"})
    data = await coop.data(
        'query($k: DateTime) { now: changes(from: "2006-01-01", to: "2006-12-31")'
        " { nodes { key change } } "
        'then: changes(from: "2006-01-01", to: "2006-12-31", knownAt: $k) { nodes { key change } } '
        'moved: changes(from: "2007-01-01", to: "2007-12-31") { nodes { key change } } }',
        {"k": seeded["recordedAt"]},
    )
    assert "tokyo@c40#1" not in {c["key"] for c in data["now"]["nodes"]}
    assert {"key": "tokyo@c40#1", "change": "STARTED"} in data["then"]["nodes"]
    assert {"key": "tokyo@c40#1", "change": "STARTED"} in data["moved"]["nodes"]
