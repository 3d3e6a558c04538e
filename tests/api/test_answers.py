"""Answers cached by log position: served again until the head moves, with ETags, 304s and
Cache-Control saying which answers never change."""

from __future__ import annotations

from typing import Any

import httpx

from domain.events import PartnerRegistered
from service.answers import Answer, Answers
from tests.api.conftest import BEARER, Client
from tests.api.test_no_n_plus_one import counting

QUERY = '{ partner(key: "c40") { name members(first: 3) { totalCount nodes { membershipId } } } }'


async def ask(client: Client, query: str = QUERY, **headers: str) -> httpx.Response:
    return await client.http.post("/graphql", json={"query": query}, headers=headers)


def data_statements(statements: list[str]) -> list[str]:
    """What was read beyond the head (and SQLite's BEGIN)."""
    return [s for s in statements if s != "BEGIN" and "FROM events" not in s]


async def test_the_same_query_is_answered_from_the_cache_until_the_head_moves(
    client: Client,
) -> None:
    first = await ask(client)
    with counting(client.services) as statements:
        again = await ask(
            client,
            'query {\n  partner(key: "c40") { name members(first: 3)'
            " { totalCount nodes { membershipId } } } }",
        )
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert data_statements(statements) == []
    assert len(statements) <= 2  # the head, read from the database every time
    await client.services.store.append(
        "partner:c40-friend", [PartnerRegistered(key="c40-friend", name="Friend", kind="city")]
    )
    with counting(client.services) as statements:
        moved = await ask(client)
    assert data_statements(statements) != []
    assert moved.headers["etag"] != first.headers["etag"]
    assert moved.json()["data"] == first.json()["data"]


async def test_the_same_bytes_again_are_answered_without_any_sql(client: Client) -> None:
    client.services.feed.log_head.confirm_seconds = 3600  # PostgreSQL: the head heard
    first = await ask(client)
    with counting(client.services) as statements:
        again = await ask(client)
        held = await ask(client, **{"if-none-match": first.headers["etag"]})
    assert statements == []
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert held.status_code == 304
    written = await client.services.store.append(
        "partner:c40-friend", [PartnerRegistered(key="c40-friend", name="Friend", kind="city")]
    )
    with counting(client.services) as statements:
        moved = await ask(client)
    assert data_statements(statements) != []
    assert moved.json()["extensions"]["basis"]["partner"]["position"] == written.last_position


async def test_a_kept_answer_is_given_only_past_the_guards_and_as_asked(client: Client) -> None:
    first = await ask(client)
    assert (await ask(client)).content == first.content  # kept for these bytes
    refused = await ask(client, authorization="Bearer not-a-token")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    graphql_response = "application/graphql-response+json"
    typed = await ask(client, accept=graphql_response)
    assert typed.headers["content-type"].startswith(graphql_response)
    assert first.headers["content-type"].startswith("application/json")
    assert typed.json()["data"] == first.json()["data"]


async def test_a_caller_holding_the_answer_gets_304(client: Client) -> None:
    first = await ask(client)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    unchanged = await ask(client, **{"if-none-match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    other = await ask(client, **{"if-none-match": '"something else"'})
    assert other.status_code == 200


async def test_answers_pinned_to_a_past_position_are_immutable(client: Client) -> None:
    pinned = (
        '{ partners(atPosition: 5) { totalCount } a: partner(key: "c40", atPosition: 9) { key } }'
    )
    anonymous = await ask(client, pinned)
    assert anonymous.headers["cache-control"] == "public, max-age=31536000, immutable"
    reader = await ask(client, pinned, **BEARER["reader"])
    assert reader.headers["cache-control"] == "private, max-age=31536000, immutable"
    mixed = await ask(
        client, "{ partners(atPosition: 5) { totalCount } b: partners { totalCount } }"
    )
    assert mixed.headers["cache-control"] == "public, no-cache"


async def test_roles_variables_and_operations_are_answered_apart(client: Client) -> None:
    query = (
        "query P($key: String!) { partner(key: $key) { key } } query Q { partners { totalCount } }"
    )
    answers: list[Any] = []
    for variables, operation, role in [
        ({"key": "c40"}, "P", None),
        ({"key": "tokyo"}, "P", None),
        ({"key": "c40"}, "P", "reader"),
        ({}, "Q", None),
    ]:
        body = {"query": query, "variables": variables, "operationName": operation}
        headers = BEARER[role] if role else {}
        with counting(client.services) as statements:
            response = await client.http.post("/graphql", json=body, headers=headers)
        assert data_statements(statements) != [], (variables, operation, role)
        answers.append(response.json()["data"])
    assert answers[0] == answers[2] != answers[1]


async def test_errors_and_mutations_are_not_kept(client: Client) -> None:
    bad = "{ partners(first: 1000) { totalCount } }"
    for _ in range(2):
        with counting(client.services) as statements:
            response = await ask(client, bad)
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "etag" in response.headers
    mutation = (
        'mutation { registerPartner(input: {key: "m1", name: "M", kind: CITY,'
        ' source: {document: "direct-entry"}}) { position } }'
    )
    written = await ask(client, mutation, **BEARER["editor"])
    assert "etag" not in written.headers
    assert written.json()["data"]["registerPartner"]["position"] > 0
    del statements


async def test_a_no_cache_request_is_answered_afresh(client: Client) -> None:
    await ask(client)
    with counting(client.services) as statements:
        await ask(client, **{"cache-control": "no-cache"})
    assert data_statements(statements) != []


def test_the_cache_is_bounded_in_bytes() -> None:
    answers = Answers(limit_bytes=1000)
    for n in range(10):
        answers.put(("q", n), Answer(b"x" * 200, "application/json", f'"{n}"', False, 0))
    assert answers.used <= 1000
    assert answers.get(("q", 0)) is None
    assert answers.get(("q", 9)) is not None
    answers.put(("big",), Answer(b"x" * 5000, "application/json", '"big"', False, 0))
    assert answers.get(("big",)) is None
