"""What a request may hold: string lengths, LIKE wildcards, the body's size and shape, and
the production switches (introspection, GraphiQL, CORS)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from schema.inputs import MAX_PROSE, MAX_SHORT
from service.app import create_app
from tests.api.conftest import Client


@asynccontextmanager
async def app_with(client: Client, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(client.services.settings, **changes)
    client.services.settings = settings
    app = create_app(settings, client.services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
        yield http


def assert_refused(body: dict[str, Any], code: str, *words: str) -> None:
    assert body.get("data") is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, body
    for word in words:
        assert word in error["message"], error["message"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("query($s: String) { partners(search: $s) { totalCount } }", "search"),
        ("query($s: String!) { partner(key: $s) { name } }", "key"),
        ("query($s: ID!) { node(id: $s) { id } }", "id"),
        ("query($s: String) { partners(after: $s) { totalCount } }", "after"),
        ("query($s: String!) { history(key: $s) { totalCount } }", "key"),
    ],
)
async def test_an_overlong_string_argument_is_refused_before_any_read(
    client: Client, query: str, name: str
) -> None:
    body = await client.post(query, {"s": "x" * (MAX_SHORT + 1)})
    assert_refused(body, "BAD_USER_INPUT", name, str(MAX_SHORT))
    # The same text written into the document is refused alike.
    literal = query.split("{", 1)[1].replace("$s", '"' + "y" * (MAX_SHORT + 1) + '"')
    assert_refused(await client.post("{" + literal), "BAD_USER_INPUT", name)


async def test_a_string_at_the_limit_is_answered(client: Client) -> None:
    body = await client.post(
        "query($s: String) { partners(search: $s) { totalCount } }", {"s": "x" * MAX_SHORT}
    )
    assert body["data"]["partners"]["totalCount"] == 0


async def test_overlong_text_inside_a_mutation_input_is_refused_and_writes_nothing(
    client: Client,
) -> None:
    head = await client.data("{ events(first: 1) { totalCount } }")
    mutation = (
        "mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) { position } }"
    )
    given = {"key": "k" * (MAX_SHORT + 1), "name": "Somewhere", "kind": "CITY"}
    body = await client.post(mutation, {"input": given}, role="editor")
    assert_refused(body, "BAD_USER_INPUT", "key")
    given = {"key": "somewhere", "name": "n" * (MAX_PROSE + 1), "kind": "CITY"}
    body = await client.post(mutation, {"input": given}, role="editor")
    assert_refused(body, "BAD_USER_INPUT", "name", str(MAX_PROSE))
    assert await client.data("{ events(first: 1) { totalCount } }") == head


async def test_a_default_value_is_held_to_the_limit_too(client: Client) -> None:
    query = (
        'query($s: String = "'
        + "z" * (MAX_SHORT + 1)
        + '") { partners(search: $s) { totalCount } }'
    )
    assert_refused(await client.post(query), "BAD_USER_INPUT", "search")


@pytest.mark.parametrize("search", ["%", "_", "%%", "\\", "_o%"])
async def test_like_wildcards_in_search_match_only_themselves(client: Client, search: str) -> None:
    data = await client.data(
        "query($s: String) { partners(search: $s) { totalCount } programs(search: $s) { totalCount } }",
        {"s": search},
    )
    assert data == {"partners": {"totalCount": 0}, "programs": {"totalCount": 0}}


async def test_search_still_finds_text_case_aside(client: Client) -> None:
    data = await client.data('{ partners(search: "YORK") { nodes { key } } }')
    assert [node["key"] for node in data["partners"]["nodes"]] == ["new-york"]


async def test_a_body_over_the_limit_is_answered_413_in_graphql_shape(client: Client) -> None:
    async with app_with(client, max_body_bytes=2000) as http:
        padding = "#" + "x" * 3000 + "\n"
        response = await http.post("/graphql", json={"query": padding + "{ __typename }"})
        assert response.status_code == 413
        assert_refused(response.json(), "PAYLOAD_TOO_LARGE", "2000 bytes")
        # Streamed with no declared length, it is refused alike.
        chunks = [b'{"query": "', b"x" * 1500, b"x" * 1500, b'"}']

        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        response = await http.post(
            "/graphql", content=stream(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        small = await http.post("/graphql", json={"query": "{ __typename }"})
        assert small.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "UTF-8"),
        (b"\xc3\x28", "UTF-8"),
        (b'"{ __typename }"', "a string"),
        (b'[{"query": "{ __typename }"}]', "an array"),
        (b"42", "a number"),
        (b"null", "null"),
        (b"true", "a boolean"),
        (b"{not json", "JSON"),
        (b"", "JSON"),
        (b'{"query": 5}', "query"),
        (b'{"query": "{ __typename }", "variables": "x"}', "variables"),
        (b'{"query": "{ __typename }", "variables": [1]}', "variables"),
        (b'{"query": "{ __typename }", "extensions": 3}', "extensions"),
        (b'{"query": "{ __typename }", "operationName": 7}', "operationName"),
        (b'{"query": "{ __typename }", "operationName": {}}', "operationName"),
    ],
)
async def test_a_body_of_the_wrong_shape_is_answered_400_with_a_message(
    client: Client, content: bytes, words: str
) -> None:
    response = await client.http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert_refused(response.json(), "BAD_REQUEST", words)


async def test_get_with_variables_that_are_not_an_object_is_400(client: Client) -> None:
    params = {"query": "{ __typename }", "variables": '"x"'}
    response = await client.http.get("/graphql", params=params)
    assert response.status_code == 400
    assert_refused(response.json(), "BAD_REQUEST", "a string")


async def test_introspection_and_graphiql_can_be_turned_off(client: Client) -> None:
    introspection = "{ __schema { queryType { name } } }"
    on = await client.post(introspection)
    assert on["data"]["__schema"]["queryType"]["name"] == "Query"
    async with app_with(client, introspection=False, graphiql=False) as http:
        response = await http.post("/graphql", json={"query": introspection})
        assert_refused(response.json(), "GRAPHQL_VALIDATION_FAILED", "introspection")
        # The type name of an answer is not introspection of the schema.
        typename = await http.post("/graphql", json={"query": "{ __typename }"})
        assert typename.json()["data"] == {"__typename": "Query"}
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert page.status_code == 404


async def test_cors_preflight_is_answered_for_allowed_origins_only(client: Client) -> None:
    allowed, other = "https://app.example.org", "https://elsewhere.example.com"
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    async with app_with(client, cors_origins=(allowed,)) as http:
        response = await http.options("/graphql", headers={"origin": allowed, **preflight})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == allowed
        assert "authorization" in response.headers["access-control-allow-headers"].lower()
        refused = await http.options("/graphql", headers={"origin": other, **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        answer = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": allowed}
        )
        assert answer.headers["access-control-allow-origin"] == allowed
        foreign = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": other}
        )
        assert "access-control-allow-origin" not in foreign.headers
    response = await client.http.options("/graphql", headers={"origin": allowed, **preflight})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("text", ["c40\u0000", "\u0000", "\ud800", "ok\udfffok"])
async def test_text_no_database_can_hold_is_refused(client: Client, text: str) -> None:
    for query in (
        "query($s: String!) { partner(key: $s) { key } }",
        "query($s: String) { partners(search: $s) { totalCount } }",
    ):
        # Escaped as JSON allows (\ud800), since no UTF-8 can carry a lone surrogate.
        content = json.dumps({"query": query, "variables": {"s": text}})
        response = await client.http.post(
            "/graphql", content=content, headers={"content-type": "application/json"}
        )
        assert_refused(response.json(), "BAD_USER_INPUT", "which")
