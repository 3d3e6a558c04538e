"""Mutations: who may write, what they write, and how a refusal looks."""

from __future__ import annotations

import pytest

from tests.api.conftest import Client

SOURCE = '{document: "tmg-international-cooperation", section: "INTERNATIONAL COOPERATION"}'
REGISTER = (
    """mutation($key: String!, $name: String!, $kind: PartnerKind!, $idem: String, $expected: Int) {
  registerPartner(input: {key: $key, name: $name, kind: $kind, country: "Japan",
                          idempotencyKey: $idem, expectedVersion: $expected,
                          source: %s, reason: "sister city"}) {
    partner { key name kind country } position streamId streamVersion replayed
  }
}"""
    % SOURCE
)


async def head(client: Client) -> int:
    return (await client.services.store.head()).position


async def partner_id(client: Client, key: str) -> str:
    """The partner's global id, as a client reads it before acting on the partner."""
    data = await client.data("query($key: String!) { partner(key: $key) { id } }", {"key": key})
    found: str = data["partner"]["id"]
    return found


async def test_an_editor_records_and_the_actor_is_the_token_name(client: Client) -> None:
    data = await client.data(
        REGISTER, {"key": "osaka", "name": "Osaka", "kind": "CITY"}, role="editor"
    )
    written = data["registerPartner"]
    assert written["partner"] == {
        "key": "osaka",
        "name": "Osaka",
        "kind": "CITY",
        "country": "Japan",
    }
    assert (written["streamId"], written["streamVersion"], written["replayed"]) == (
        "partner:osaka",
        1,
        False,
    )
    assert written["position"] == await head(client)

    log = await client.data(
        "query($s: String) { events(streamId: $s) { nodes { type metadata } } }",
        {"s": "partner:osaka"},
        role="auditor",
    )
    meta = log["events"]["nodes"][0]["metadata"]
    assert meta["actor"] == "ed"
    assert meta["reason"] == "sister city"
    # The next query already sees it (read-your-writes).
    seen = await client.data('{ partner(key: "osaka") { name } }')
    assert seen["partner"]["name"] == "Osaka"


@pytest.mark.parametrize(
    ("role", "code"), [(None, "UNAUTHENTICATED"), ("reader", "FORBIDDEN"), ("auditor", "FORBIDDEN")]
)
async def test_writes_need_an_editor_or_admin(client: Client, role: str | None, code: str) -> None:
    before = await head(client)
    body = await client.post(REGISTER, {"key": "osaka", "name": "Osaka", "kind": "CITY"}, role=role)
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["data"] is None
    assert await head(client) == before


async def test_a_bad_token_is_refused_before_anything_runs(client: Client) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": "{ partners { totalCount } }"},
        headers={"authorization": "Bearer nope"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("variables", "code", "says"),
    [
        ({"key": "tokyo", "name": "Tokyo", "kind": "CITY"}, "CONFLICT", "tokyo"),
        ({"key": "osaka", "name": " ", "kind": "CITY"}, "BAD_USER_INPUT", "name"),
        ({"key": "osaka", "name": "Osaka", "kind": "planet"}, "BAD_USER_INPUT", "planet"),
        ({"key": "Osaka City", "name": "Osaka", "kind": "CITY"}, "BAD_USER_INPUT", "Osaka City"),
    ],
)
async def test_refusals_say_what_is_wrong_and_write_nothing(
    client: Client, variables: dict[str, str], code: str, says: str
) -> None:
    before = await head(client)
    body = await client.post(REGISTER, variables, role="editor")
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert says in error["message"]
    assert await head(client) == before


async def test_unknown_partner_is_not_found(client: Client) -> None:
    mutation = (
        """mutation { startMembership(input: {member: "atlantis", network: "c40", since: "2010",
      source: %s}) { membership { since } } }"""
        % SOURCE
    )
    body = await client.post(mutation, role="editor")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "atlantis" in body["errors"][0]["message"]


async def test_a_partial_date_that_is_not_one_is_refused(client: Client) -> None:
    mutation = (
        """mutation { startMembership(input: {member: "tokyo", network: "icap", since: "May 2009",
      source: %s}) { membership { since } } }"""
        % SOURCE
    )
    body = await client.post(mutation, role="editor")
    assert "May 2009" in body["errors"][0]["message"]
    assert "data" not in body or body["data"] is None


async def test_idempotent_retry_returns_the_first_result(client: Client) -> None:
    variables = {"key": "osaka", "name": "Osaka", "kind": "CITY", "idem": "req-42"}
    first = (await client.data(REGISTER, variables, role="editor"))["registerPartner"]
    again = (await client.data(REGISTER, variables, role="editor"))["registerPartner"]
    assert again["replayed"] is True
    assert again["position"] == first["position"]
    assert await head(client) == first["position"]
    changed = await client.post(REGISTER, {**variables, "name": "Osaka City"}, role="editor")
    assert changed["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_a_retry_shows_what_the_first_write_left_even_after_later_changes(
    client: Client,
) -> None:
    variables = {"key": "osaka", "name": "Osaka", "kind": "CITY", "idem": "req-43"}
    first = (await client.data(REGISTER, variables, role="editor"))["registerPartner"]
    rename = """mutation($id: ID!) { updatePartner(input: {id: $id, effective: "2020",
      name: "Osaka City", kind: CITY, country: "Japan"}) { partner { name } } }"""
    renamed = await client.data(rename, {"id": await partner_id(client, "osaka")}, role="editor")
    assert renamed["updatePartner"]["partner"]["name"] == "Osaka City"
    again = (await client.data(REGISTER, variables, role="editor"))["registerPartner"]
    assert again["replayed"] is True
    assert again["partner"] == first["partner"]


async def test_a_key_replays_only_for_the_writer_who_used_it(client: Client) -> None:
    variables = {"key": "osaka", "name": "Osaka", "kind": "CITY", "idem": "req-44"}
    await client.data(REGISTER, variables, role="editor")
    for changed in ({}, {"name": "Osaka City"}):  # the same request, or another
        other = await client.post(REGISTER, {**variables, **changed}, role="admin")
        assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert "another writer" in other["errors"][0]["message"]
        assert "partner:osaka" not in other["errors"][0]["message"]


async def test_expected_version_is_checked(client: Client) -> None:
    ok = await client.data(
        REGISTER, {"key": "osaka", "name": "Osaka", "kind": "CITY", "expected": 0}, role="editor"
    )
    assert ok["registerPartner"]["streamVersion"] == 1
    update = (
        """mutation($id: ID!, $expected: Int) { updatePartner(input: {id: $id,
      effective: "2020", name: "Osaka City", expectedVersion: $expected, source: %s}) {
      partner { name } streamVersion } }"""
        % SOURCE
    )
    osaka = await partner_id(client, "osaka")
    stale = await client.post(update, {"id": osaka, "expected": 5}, role="editor")
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "partner:osaka" in stale["errors"][0]["message"]
    fresh = await client.data(update, {"id": osaka, "expected": 1}, role="editor")
    assert fresh["updatePartner"] == {"partner": {"name": "Osaka City"}, "streamVersion": 2}


async def test_every_command_has_its_mutation(client: Client) -> None:
    from domain.commands import all_commands

    fields = await client.data('{ __type(name: "Mutation") { fields { name } } }')
    names = {f["name"] for f in fields["__type"]["fields"]}
    expected = {c.__name__[0].lower() + c.__name__[1:] for c in all_commands()}
    assert expected <= names
    assert {
        "registerPartner",
        "startMembership",
        "correctMembership",
        "assignRole",
        "endRole",
        "launchProgram",
        "joinProgram",
        "leaveProgram",
        "concludeProgram",
        "recordActivity",
        "announceCommitment",
        "updatePartner",
        "endMembership",
    } <= names


async def test_a_read_only_instance_records_nothing(client: Client) -> None:
    from dataclasses import replace

    client.services.settings = replace(client.services.settings, read_only=True)
    before = await head(client)
    body = await client.post(
        REGISTER, {"key": "osaka", "name": "Osaka", "kind": "CITY"}, role="editor"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "read-only" in body["errors"][0]["message"]
    assert await head(client) == before
