"""GraphQL over HTTP as a new client meets it: GraphiQL, POST, GET, media types, status codes."""

from __future__ import annotations

import json

import pytest

from tests.acceptance.support import GQL_RESPONSE, Coop, codes

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TOKYO = '{ partner(key: "tokyo") { key name } }'

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def coop(shared: Coop) -> Coop:
    """This module only reads: its tests share one seeded service."""
    return shared


async def test_browser_get_serves_graphiql(coop: Coop) -> None:
    response = await coop.http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_post_json_answers_with_data_and_json_media_type(coop: Coop) -> None:
    response = await coop.post(TOKYO, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["data"]["partner"] == {"key": "tokyo", "name": "Tokyo Metropolitan Government"}
    assert "errors" not in body


async def test_post_with_graphql_response_json_accept(coop: Coop) -> None:
    response = await coop.post(TOKYO, headers={"accept": GQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GQL_RESPONSE)
    assert response.json()["data"]["partner"]["key"] == "tokyo"


async def test_parse_and_validation_errors_with_graphql_response_json_are_4xx_without_data(
    coop: Coop,
) -> None:
    for document in ("{ partner(key: ", '{ partner(key: "tokyo") { noSuchField } }'):
        response = await coop.post(document, headers={"accept": GQL_RESPONSE})
        assert response.status_code == 400, (document, response.status_code, response.text)
        assert response.headers["content-type"].startswith(GQL_RESPONSE)
        body = response.json()
        assert "data" not in body, body
        assert body["errors"]
        assert body["errors"][0]["message"]


async def test_parse_and_validation_errors_with_plain_json_have_no_data_key(coop: Coop) -> None:
    for document in ("{ partner(key: ", '{ partner(key: "tokyo") { noSuchField } }'):
        response = await coop.post(document, headers={"accept": "application/json"})
        assert response.status_code in (200, 400), response.status_code
        body = response.json()
        assert "data" not in body, body
        assert body["errors"]


async def test_variables_of_the_wrong_type_are_a_request_error(coop: Coop) -> None:
    response = await coop.post(
        "query($key: String!) { partner(key: $key) { key } }",
        {"key": 5},
        headers={"accept": GQL_RESPONSE},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    # a request error says what is wrong; it is not an unexpected (masked) error
    assert codes(body) != ["INTERNAL_SERVER_ERROR"], body
    assert "key" in body["errors"][0]["message"] or "String" in body["errors"][0]["message"], body

    response = await coop.post(
        'query($asOf: Date) { partner(key: "tokyo", asOf: $asOf) { key } }',
        {"asOf": "2008-02-30"},
        headers={"accept": GQL_RESPONSE},
    )
    assert response.status_code == 400
    assert codes(response.json()) != ["INTERNAL_SERVER_ERROR"], response.json()
    assert "2008-02-30" in response.json()["errors"][0]["message"], response.json()


async def test_variables_and_operation_name(coop: Coop) -> None:
    document = (
        "query One($key: String!) { partner(key: $key) { key } } "
        "query Two { partners(kind: NETWORK) { totalCount } }"
    )
    response = await coop.post(document, {"key": "beijing"}, operationName="One")
    assert response.json()["data"] == {"partner": {"key": "beijing"}}
    response = await coop.post(document, operationName="Two")
    assert response.json()["data"] == {"partners": {"totalCount": 2}}


async def test_malformed_request_bodies_are_400(coop: Coop) -> None:
    response = await coop.http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    response = await coop.http.post("/graphql", json={"variables": {}})
    assert response.status_code == 400, "a POST without a query"


async def test_get_runs_queries(coop: Coop) -> None:
    response = await coop.http.get(
        "/graphql",
        params={
            "query": "query($key: String!) { partner(key: $key) { key country } }",
            "variables": json.dumps({"key": "yangon"}),
        },
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"partner": {"key": "yangon", "country": "Myanmar"}}

    # a query operation picked by name from a document that also holds a mutation
    document = (
        'query Q { partner(key: "tokyo") { key } } '
        'mutation M { registerPartner(input: {key: "x", name: "X", kind: CITY}) { position } }'
    )
    response = await coop.http.get(
        "/graphql",
        params={"query": document, "operationName": "Q"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"partner": {"key": "tokyo"}}

    # validation failures over GET follow the same status rules
    response = await coop.http.get(
        "/graphql", params={"query": "{ noSuchField }"}, headers={"accept": GQL_RESPONSE}
    )
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_post_with_an_unsupported_content_type_is_refused(coop: Coop) -> None:
    response = await coop.http.post(
        "/graphql", content=TOKYO.encode(), headers={"content-type": "text/plain"}
    )
    assert 400 <= response.status_code < 500, response.status_code


async def test_abuse_limits_refuse_deep_wide_and_long_documents(coop: Coop) -> None:
    deep = "key"
    for _ in range(8):
        deep = f"memberships {{ nodes {{ network {{ {deep} }} }} }}"
    body = await coop.gql(f'{{ partner(key: "tokyo") {{ {deep} }} }}')
    assert body.get("errors"), "a document nested far deeper than 12 levels"
    assert "depth" in body["errors"][0]["message"].lower(), body["errors"]
    assert not body.get("data")

    aliases = " ".join(f'a{i}: partner(key: "tokyo") {{ key }}' for i in range(30))
    body = await coop.gql(f"{{ {aliases} }}")
    assert not body.get("errors"), "30 aliases: at the limit, answered"
    aliases = " ".join(f'a{i}: partner(key: "tokyo") {{ key }}' for i in range(31))
    body = await coop.gql(f"{{ {aliases} }}")
    assert body.get("errors"), "31 aliases, over the limit of 30"
    assert "alias" in body["errors"][0]["message"].lower(), body["errors"]
    assert not body.get("data")

    long = " ".join(["__typename"] * 2500)
    body = await coop.gql(f"{{ {long} }}")
    assert body.get("errors"), "a document of 2500+ tokens, over the limit of 2000"
    assert "token" in body["errors"][0]["message"].lower(), body["errors"]

    # under every limit: answered
    shallow = await coop.gql(
        '{ partner(key: "tokyo") { memberships { nodes { network { members { nodes '
        "{ member { key } } } } } } } }"
    )
    assert not shallow.get("errors"), shallow


async def test_request_id_is_echoed_or_made(coop: Coop) -> None:
    response = await coop.post(TOKYO, headers={"x-request-id": "qa-request-42"})
    assert response.headers.get("x-request-id") == "qa-request-42"
    response = await coop.post(TOKYO)
    assert response.headers.get("x-request-id"), "a request id is made when none is sent"


async def test_execution_errors_keep_the_data_entry_and_a_2xx_status(coop: Coop) -> None:
    mutation = 'mutation { registerPartner(input: {key: "x", name: "X", kind: CITY}) { position } }'
    for accept in ("application/json", GQL_RESPONSE):
        response = await coop.post(mutation, headers={"accept": accept})
        assert response.status_code == 200, (accept, response.status_code)
        body = response.json()
        assert "data" in body
        assert body["data"] is None
        assert codes(body) == ["UNAUTHENTICATED"]
