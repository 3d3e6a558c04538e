"""Recording: every command as a mutation, auth, refusals with codes, concurrency, idempotency."""

from __future__ import annotations

from typing import Any

from tests.acceptance.support import GQL_RESPONSE, SEED_DOCUMENT, Coop, absent_id, bearer, codes

SEOUL = {
    "key": "seoul",
    "name": "Seoul",
    "kind": "CITY",
    "country": "South Korea",
    "region": "Asia",
}
PARTNER = "partner { key name country provenance { nodes { source { document section } } } } streamId streamVersion position firstPosition replayed"


async def metadata(coop: Coop, stream: str) -> list[dict[str, Any]]:
    data = await coop.data(
        "query($s: String) { events(after: 0, streamId: $s) { nodes { position metadata } } }",
        {"s": stream},
        role="auditor",
    )
    return [node["metadata"] for node in data["events"]["nodes"]]


async def test_register_partner_returns_object_position_and_stream_version(coop: Coop) -> None:
    head = await coop.head()
    payload = await coop.ok(
        "registerPartner",
        {
            **SEOUL,
            "source": {"document": SEED_DOCUMENT, "section": "INTERNATIONAL COOPERATION"},
            "reason": "QA: new partner",
        },
        PARTNER,
    )
    assert payload["partner"]["key"] == "seoul"
    assert payload["partner"]["name"] == "Seoul"
    assert payload["partner"]["provenance"]["nodes"][-1]["source"] == {
        "document": SEED_DOCUMENT,
        "section": "INTERNATIONAL COOPERATION",
    }
    assert payload["position"] == head + 1
    assert payload["streamVersion"] == 1
    assert payload["streamId"] == "partner:seoul"
    assert payload["replayed"] is False
    assert await coop.head() == head + 1

    read = await coop.data('{ partner(key: "seoul") { key name country region kind } }')
    assert read["partner"] == {
        "key": "seoul",
        "name": "Seoul",
        "country": "South Korea",
        "region": "Asia",
        "kind": "CITY",
    }

    [meta] = await metadata(coop, "partner:seoul")
    assert meta["actor"] == "ed", "the actor is the token's name"
    assert meta["reason"] == "QA: new partner"
    assert meta["source"]["document"] == SEED_DOCUMENT

    update = await coop.ok(
        "updatePartner",
        {
            "id": await coop.id_of("partner", "seoul"),
            "name": "Seoul Metropolitan Government",
            "effective": "2021",
        },
        PARTNER,
    )
    assert update["streamVersion"] == 2
    assert update["position"] == head + 2
    assert update["partner"]["name"] == "Seoul Metropolitan Government"


async def test_a_fact_without_a_source_is_direct_entry(coop: Coop) -> None:
    payload = await coop.ok("registerPartner", SEOUL, PARTNER)
    assert payload["partner"]["provenance"]["nodes"][-1]["source"]["document"] == "direct-entry"
    membership = await coop.ok(
        "startMembership",
        {"member": "seoul", "network": "c40", "since": "2010"},
        "membership { source { document section } }",
    )
    assert membership["membership"]["source"]["document"] == "direct-entry"


async def test_an_unregistered_source_is_refused(coop: Coop) -> None:
    head = await coop.head()
    body = await coop.mutate(
        "registerPartner", {**SEOUL, "source": {"document": "no-such-document"}}, PARTNER
    )
    assert codes(body), body
    assert set(codes(body)) <= {"BAD_USER_INPUT", "NOT_FOUND"}, body
    assert "no-such-document" in body["errors"][0]["message"]
    assert await coop.head() == head


async def test_actor_is_the_token_name_never_a_value_from_the_request(coop: Coop) -> None:
    response = await coop.post(
        "mutation($i: RegisterPartnerInput!) { registerPartner(input: $i) { position } }",
        {"i": SEOUL},
        role="admin",
        headers={"x-actor": "mallory", "x-user": "mallory"},
        extensions={"actor": "mallory"},
    )
    assert "errors" not in response.json(), response.json()
    [meta] = await metadata(coop, "partner:seoul")
    assert meta["actor"] == "ad"
    provenance = await coop.data(
        '{ partner(key: "seoul") { provenance { nodes { actor } } } }', role="admin"
    )
    assert [p["actor"] for p in provenance["partner"]["provenance"]["nodes"]] == ["ad"]


async def test_writes_need_an_editor_or_admin_token(coop: Coop) -> None:
    head = await coop.head()
    anonymous = await coop.mutate("registerPartner", SEOUL, "position", role=None)
    assert codes(anonymous) == ["UNAUTHENTICATED"], anonymous
    assert anonymous["errors"][0]["message"]
    for role in ("reader", "auditor"):
        body = await coop.mutate("registerPartner", SEOUL, "position", role=role)
        assert codes(body) == ["FORBIDDEN"], (role, body)
    for authorization in ("Bearer wrong-secret", "Basic ZWQ6ZWQtc2VjcmV0", "ed-secret"):
        response = await coop.http.post(
            "/graphql",
            json={
                "query": 'mutation { registerPartner(input: {key: "seoul", name: "S", kind: CITY}) { position } }'
            },
            headers={"authorization": authorization},
        )
        assert codes(response.json()) == ["UNAUTHENTICATED"], (authorization, response.json())
    assert await coop.head() == head


async def test_plain_role_token_pairs_from_the_contract(start: Any) -> None:
    async with start(tokens="editor:plain-editor-secret,reader:plain-reader-secret") as coop:
        response = await coop.http.post(
            "/graphql",
            json={
                "query": 'mutation { registerPartner(input: {key: "seoul", name: "Seoul", kind: CITY}) { position partner { key } } }'
            },
            headers={"authorization": "Bearer plain-editor-secret"},
        )
        body = response.json()
        assert not body.get("errors"), body
        assert body["data"]["registerPartner"]["partner"] == {"key": "seoul"}
        refused = await coop.http.post(
            "/graphql",
            json={
                "query": 'mutation { registerPartner(input: {key: "x", name: "X", kind: CITY}) { position } }'
            },
            headers={"authorization": "Bearer plain-reader-secret"},
        )
        assert codes(refused.json()) == ["FORBIDDEN"], refused.json()


async def test_unknown_keys_are_not_found_and_write_nothing(coop: Coop) -> None:
    head = await coop.head()
    cases = [
        ("startMembership", {"member": "atlantis", "network": "c40", "since": "2010"}),
        ("startMembership", {"member": "tokyo", "network": "no-network", "since": "2010"}),
        (
            "updatePartner",
            {"id": absent_id("Partner", "atlantis"), "name": "Atlantis", "effective": "2020"},
        ),
        ("joinProgram", {"program": "no-program", "partner": "tokyo"}),
        ("endMembership", {"id": absent_id("Membership", "paris@icap#1"), "until": "2020"}),
        # commands that would write several events write none of them
        (
            "launchProgram",
            {
                "key": "qa",
                "name": "QA",
                "field": "AIR_QUALITY",
                "kind": "BILATERAL_PROGRAM",
                "lead": "tokyo",
                "partners": ["beijing", "atlantis"],
            },
        ),
        (
            "recordActivity",
            {
                "key": "qa-w",
                "name": "QA",
                "kind": "WORKSHOP",
                "participants": ["tokyo", "atlantis"],
            },
        ),
    ]
    for name, input in cases:
        body = await coop.mutate(name, input, "position")
        assert codes(body) == ["NOT_FOUND"], (name, input, body)
        assert body["errors"][0]["message"]
    assert await coop.head() == head


async def test_rules_refuse_what_the_record_shows_impossible(coop: Coop) -> None:
    await coop.ok("registerPartner", SEOUL)
    head = await coop.head()
    cases = [
        # two overlapping memberships of one member in one network
        ("startMembership", {"member": "tokyo", "network": "c40", "since": "2010"}),
        # an end before the start
        ("endMembership", {"id": await coop.id_of("membership", "tokyo@icap#1"), "until": "2008"}),
        # a role for a non-member
        (
            "assignRole",
            {"holder": "seoul", "network": "c40", "title": "treasurer", "since": "2021"},
        ),
        # a partner key that is taken
        ("registerPartner", {"key": "tokyo", "name": "Another Tokyo", "kind": "CITY"}),
    ]
    for name, input in cases:
        body = await coop.mutate(name, input, "position")
        assert body.get("errors"), (name, input, body)
        assert codes(body)[0] in {"BAD_USER_INPUT", "CONFLICT"}, (name, body)
        assert len(body["errors"][0]["message"]) > 10
    assert await coop.head() == head


async def test_invalid_partial_dates_are_bad_user_input(coop: Coop) -> None:
    head = await coop.head()
    inline = 'mutation {{ startMembership(input: {{member: "paris", network: "icap", since: "{}"}}) {{ position }} }}'
    for since in ("2006-13", "2006-02-30", "someday"):
        body = await coop.gql(inline.format(since), role="editor")
        assert codes(body) == ["BAD_USER_INPUT"], (since, body)
        assert since in body["errors"][0]["message"]
        # the same value as a variable, the way clients send input
        body = await coop.mutate(
            "startMembership", {"member": "paris", "network": "icap", "since": since}, "position"
        )
        assert codes(body) == ["BAD_USER_INPUT"], ("variable", since, body)
        assert since in body["errors"][0]["message"], body
    assert await coop.head() == head


async def test_correct_role_in_a_body_without_restating_the_body(coop: Coop) -> None:
    """correctRole's `body` is optional: correcting only the title of the seed's steering
    committee role (tokyo@c40#role-1) must work, or be refused with a code, never crash."""
    head = await coop.head()
    body = await coop.mutate(
        "correctRole",
        {"id": await coop.id_of("role", "tokyo@c40#role-1"), "holderTitle": "Governor"},
        "role { roleId holderTitle body { key } }",
    )
    assert "INTERNAL_SERVER_ERROR" not in codes(body), body
    if not body.get("errors"):
        role = body["data"]["correctRole"]["role"]
        assert role == {
            "roleId": "tokyo@c40#role-1",
            "holderTitle": "Governor",
            "body": {"key": "steering-committee"},
        }
    else:
        assert await coop.head() == head


async def test_expected_version_guards_concurrent_edits(coop: Coop) -> None:
    stream = await coop.data(
        '{ events(after: 0, streamId: "partner:tokyo") { nodes { streamVersion } } }'
    )
    current = stream["events"]["nodes"][-1]["streamVersion"]
    tokyo = await coop.id_of("partner", "tokyo")
    head = await coop.head()
    stale = await coop.mutate(
        "updatePartner",
        {
            "id": tokyo,
            "name": "Stale",
            "effective": "2021",
            "expectedVersion": current - 1 if current > 1 else current + 5,
        },
        "position",
    )
    assert codes(stale) == ["CONFLICT"], stale
    assert (
        str(current) in stale["errors"][0]["message"]
        or "version" in stale["errors"][0]["message"].lower()
    )
    assert await coop.head() == head
    fresh = await coop.ok(
        "updatePartner",
        {"id": tokyo, "name": "Tokyo QA", "effective": "2021", "expectedVersion": current},
        "streamVersion position partner { name }",
    )
    assert fresh["streamVersion"] == current + 1
    assert fresh["partner"]["name"] == "Tokyo QA"
    new_stream = await coop.ok("registerPartner", {**SEOUL, "expectedVersion": 0}, "streamVersion")
    assert new_stream["streamVersion"] == 1
    taken = await coop.mutate(
        "registerPartner",
        {"key": "tokyo", "name": "T", "kind": "CITY", "expectedVersion": 0},
        "position",
    )
    assert codes(taken) == ["CONFLICT"], taken
    again = await coop.mutate(
        "updatePartner",
        {"id": tokyo, "name": "Again", "effective": "2021", "expectedVersion": current},
        "position",
    )
    assert codes(again) == ["CONFLICT"], again


async def test_idempotent_retries(coop: Coop) -> None:
    input = {"member": "paris", "network": "icap", "since": "2015-03", "idempotencyKey": "qa-req-1"}
    selection = "membership { membershipId since member { key } network { key } } position streamVersion replayed"
    first = await coop.ok("startMembership", input, selection)
    assert first["replayed"] is False
    assert first["membership"]["since"] == "2015-03"
    head = await coop.head()
    retry = await coop.ok("startMembership", input, selection)
    assert retry["replayed"] is True
    assert (retry["position"], retry["streamVersion"]) == (
        first["position"],
        first["streamVersion"],
    )
    assert retry["membership"]["membershipId"] == first["membership"]["membershipId"]
    assert await coop.head() == head

    different = await coop.mutate("startMembership", {**input, "since": "2016"}, "position")
    assert codes(different) == ["CONFLICT"], different
    other_command = await coop.mutate(
        "registerPartner", {**SEOUL, "idempotencyKey": "qa-req-1"}, "position"
    )
    assert codes(other_command) == ["CONFLICT"], other_command
    assert await coop.head() == head


async def test_read_only_service_refuses_every_mutation(start: Any) -> None:
    async with start(read_only=True) as coop:
        head = await coop.head()
        body = await coop.mutate("registerPartner", SEOUL, "position")
        assert body.get("errors"), body
        assert codes(body)[0] in {"FORBIDDEN", "BAD_USER_INPUT"}, body
        assert await coop.head() == head
        assert (await coop.data('{ partner(key: "tokyo") { key } }'))["partner"]["key"] == "tokyo"


async def test_reads_can_require_a_token(start: Any) -> None:
    async with start(require_auth_for_reads=True) as coop:
        query = '{ partner(key: "tokyo") { key } }'
        body = await coop.gql(query)
        assert codes(body)[:1] == ["UNAUTHENTICATED"], body
        assert not (body.get("data") or {}).get("partner")
        response = await coop.http.get(
            "/graphql", params={"query": query}, headers={"accept": "application/json"}
        )
        assert codes(response.json())
        assert codes(response.json())[0] == "UNAUTHENTICATED"
        bad = await coop.post(query, headers={"authorization": "Bearer nope"})
        assert codes(bad.json())
        assert codes(bad.json())[0] == "UNAUTHENTICATED"
        for role in ("reader", "editor", "auditor", "admin"):
            assert (await coop.data(query, role=role))["partner"] == {"key": "tokyo"}


async def test_get_refuses_a_mutation_with_405_and_writes_nothing(coop: Coop) -> None:
    before = await coop.head()
    mutation = (
        'mutation { registerPartner(input: {key: "seoul", name: "Seoul", kind: CITY}) '
        "{ position } }"
    )
    for accept in ("application/json", GQL_RESPONSE):
        response = await coop.http.get(
            "/graphql", params={"query": mutation}, headers={"accept": accept, **bearer("editor")}
        )
        assert response.status_code == 405, (accept, response.status_code, response.text)
    assert await coop.head() == before
    assert (await coop.data('{ partner(key: "seoul") { key } }'))["partner"] is None


async def test_input_checks_are_bad_user_input_with_a_message_naming_the_problem(
    coop: Coop,
) -> None:
    head = await coop.head()
    cases = [
        ("registerPartner", {"key": "Bad Key!", "name": "x", "kind": "CITY"}, "Bad Key!"),
        ("registerPartner", {"key": "newcity", "name": "", "kind": "CITY"}, "name"),
        ("registerPartner", {"key": "newcity", "name": "N", "kind": "planet"}, "planet"),
        (
            "recordBodySize",
            {"network": "c40", "body": "steering-committee", "size": -3, "asOf": "2021"},
            "-3",
        ),
    ]
    for name, input, named in cases:
        body = await coop.mutate(name, input, "position")
        assert codes(body) == ["BAD_USER_INPUT"], (name, body)
        assert named in body["errors"][0]["message"], body
    assert await coop.head() == head
