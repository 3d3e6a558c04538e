"""The cost budget: what an operation could return is estimated before any SQL runs, shown in
every answer, and an operation over the budget is refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql import parse
from sqlalchemy import event

from schema.cost import estimate_cost
from schema.root import build_schema
from tests.api.conftest import Client

SCHEMA = build_schema()._schema


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return estimate_cost(SCHEMA, parse(document), name, variables, 100)


NESTED = "{ partners(first: 10) { nodes { memberships(first: 5) { nodes { network { key } } } } } }"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ __typename }", 0),
        ('{ partner(key: "c40") { key name } }', 1),
        ("{ partners(first: 10) { totalCount nodes { key } } }", 1 + 10),
        # Edges and their nodes are objects alike; pageInfo is one more.
        ("{ partners(first: 10) { pageInfo { hasNextPage } edges { node { key } } } }", 1 + 1 + 20),
        ("{ partners { nodes { key } } }", 1 + 100),
        ("{ partners(last: 7) { nodes { key } } }", 1 + 7),
        (NESTED, 1 + 10 * (1 + 1 + 5 * 2)),
        (
            "{ a: partners(first: 10) { nodes { key } } b: partners(first: 3) { nodes { key } } }",
            11 + 4,
        ),
        ("{ __schema { types { fields { name } } } }", 0),
    ],
)
def test_the_estimate_counts_objects_down_the_nesting(document: str, expected: int) -> None:
    assert cost(document) == expected


def test_variables_and_their_defaults_give_the_page_size() -> None:
    document = "query($n: Int = 4) { partners(first: $n) { nodes { key } } }"
    assert cost(document) == 1 + 4
    assert cost(document, {"n": 9}) == 1 + 9
    assert cost(document, {"n": None}) == 1 + 100


def test_fragments_count_where_they_are_spread_and_a_cycle_ends() -> None:
    document = """
        query { partners(first: 10) { ...Page } other: partners(first: 2) { ...Page } }
        fragment Page on PartnerConnection { nodes { ...Named } }
        fragment Named on Partner { key memberships(first: 3) { nodes { key } } }
    """
    assert cost(document) == (1 + 10 * (1 + 1 + 3)) + (1 + 2 * (1 + 1 + 3))
    looping = "{ partners(first: 2) { nodes { ...A } } } fragment A on Partner { ...B } fragment B on Partner { ...A members { nodes { key } } }"
    assert cost(looping) == 1 + 2 * (1 + 1 + 100)


def test_a_fragment_bomb_is_estimated_in_linear_time() -> None:
    fragments = ["fragment F0 on Partner { key }"] + [
        f"fragment F{n} on Partner {{ ...F{n - 1} a{n}: memberships {{ nodes {{ member {{ ...F{n - 1} }} }} }} }}"
        for n in range(1, 40)
    ]
    document = '{ partner(key: "c40") { ...F39 } } ' + " ".join(fragments)
    assert cost(document) >= 10**15  # at the ceiling, found without expanding 2**39 spreads


@contextmanager
def statements(client: Client) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = client.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


FOUR_LEVELS = """{ partners(first: 100) { edges { node { a: members(first: 100) { nodes {
    member { memberships(first: 100) { nodes { network { members(first: 100) { nodes { membershipId } } } } } }
} } } } } }"""


async def test_an_operation_over_the_budget_is_refused_before_any_sql(client: Client) -> None:
    with statements(client) as seen:
        body = await client.post(FOUR_LEVELS)
    assert body.get("data") is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["limit"] == 50_000
    assert error["extensions"]["cost"] > 100**4
    assert str(error["extensions"]["cost"]) in error["message"]
    assert "50000" in error["message"]
    assert seen == []


async def test_every_answer_shows_its_estimate(client: Client) -> None:
    body = await client.post(NESTED)
    assert "errors" not in body, body
    assert body["extensions"]["cost"] == {"estimated": 121, "limit": 50_000}
    mutation = 'mutation { registerPartner(input: {key: "lisbon", name: "Lisbon", kind: CITY}) { position } }'
    written = await client.post(mutation, role="editor")
    assert written["extensions"]["cost"]["estimated"] == 1


async def test_a_query_just_under_the_budget_is_answered(client: Client) -> None:
    # 1 + 100 * (1 + 1 + 100 * 2) = 20,201 objects at most.
    document = (
        "{ partners(first: 100) { nodes { members(first: 100) { nodes { member { key } } } } } }"
    )
    body = await client.post(document)
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["estimated"] == 20_201
