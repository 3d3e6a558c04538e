"""GraphQL over HTTP as its specification says, and the abuse limits."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError
from strawberry.schema import schema as strawberry_schema

from schema.extensions import MASKED, coded
from tests.api.conftest import Client
from tests.api.test_no_n_plus_one import counting

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_get_serves_queries(client: Client) -> None:
    response = await client.http.get(
        "/graphql", params={"query": '{ partner(key: "c40") { name } }'}
    )
    assert response.status_code == 200
    assert response.json()["data"]["partner"]["name"]


async def test_get_refuses_mutations(client: Client) -> None:
    query = 'mutation { registerPartner(input: {key: "x", name: "X", kind: CITY}) { position } }'
    response = await client.http.get("/graphql", params={"query": query})
    assert response.status_code == 405
    assert "errors" in response.json()


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_subscriptions_over_http_are_refused_with_a_pointer_to_websocket(
    client: Client, method: str
) -> None:
    query = "subscription { events(after: 0) { position } }"
    headers = {"accept": GRAPHQL_RESPONSE}
    if method == "GET":
        response = await client.http.get("/graphql", params={"query": query}, headers=headers)
    else:
        response = await client.http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]
    assert "data" not in response.json()


async def test_browser_gets_graphiql(client: Client) -> None:
    response = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ partner(key: ", "GRAPHQL_PARSE_FAILED"), ("{ nosuchfield }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_request_errors_have_no_data_and_a_4xx_for_graphql_response_json(
    client: Client, query: str, code: str
) -> None:
    response = await client.http.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code

    legacy = await client.http.post("/graphql", json={"query": query}, headers={"accept": JSON})
    assert legacy.status_code in (200, 400)
    assert legacy.headers["content-type"].startswith(JSON)
    assert "data" not in legacy.json()


async def test_execution_errors_keep_200_and_data(client: Client) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": "{ partners(first: 100000) { totalCount } }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "0 to 100" in body["errors"][0]["message"]


async def test_depth_and_alias_limits(client: Client) -> None:
    deep = (
        '{ partner(key: "c40") { '
        + "members { nodes { member { " * 5
        + "key"
        + " } } }" * 5
        + " } }"
    )
    body = await client.post(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f'a{n}: partner(key: "c40") {{ key }}' for n in range(40)) + " }"
    body = await client.post(aliases)
    assert "aliases" in body["errors"][0]["message"].lower()


def test_unexpected_errors_are_masked_and_coded() -> None:
    raised = GraphQLError(
        "boom at /secret/path", path=["partner"], original_error=RuntimeError("boom")
    )
    masked = coded(raised)
    assert masked.message == MASKED
    assert masked.extensions == {"code": "INTERNAL_SERVER_ERROR"}


async def test_require_auth_for_reads(client: Client) -> None:
    from dataclasses import replace

    import httpx

    from service.app import create_app

    settings = replace(client.services.settings, require_auth_for_reads=True)
    client.services.settings = settings
    app = create_app(settings, client.services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://c"
    ) as http:
        anonymous = await http.post("/graphql", json={"query": "{ partners { totalCount } }"})
        reader = await http.post(
            "/graphql",
            json={"query": "{ partners { totalCount } }"},
            headers={"authorization": "Bearer ri-secret"},
        )
    assert anonymous.status_code == 401
    assert reader.json()["data"]["partners"]["totalCount"] > 0


async def test_a_document_seen_before_is_not_validated_again(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[object] = []
    validate = strawberry_schema.validate

    def counting(*args: Any, **kwargs: Any) -> Any:
        validated.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    query = '{ partner(key: "c40") { name members(first: 2) { totalCount } } }'
    for _ in range(3):
        assert (await client.data(query))["partner"]["name"]
    assert len(validated) <= 1


async def test_a_query_reads_the_head_once(client: Client) -> None:
    query = '{ partner(key: "c40", atPosition: 3) { name } partners(first: 2) { totalCount } }'
    with counting(client.services) as statements:
        body = await client.post(query)
    assert "errors" not in body
    assert body["extensions"]["basis"]["partner"]["position"] == 3
    # Looked up once for the answer cache, and the operation answers on it. Through the pool
    # at most: on SQLite the head is read beside it, on PostgreSQL heard over LISTEN.
    assert len([s for s in statements if "FROM events" in s]) <= 1
