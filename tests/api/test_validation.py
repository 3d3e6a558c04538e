"""Validation leaves out the variable and fragment rules only where a document's text shows
they have nothing to look at: every error a client would get from graphql-core's full set
is still given."""

from __future__ import annotations

import pytest
from graphql import parse, specified_rules, validate

from schema.root import build_schema
from schema.validation import rules_for
from tests.api.conftest import Client

SCHEMA = build_schema()._schema

# Each breaks (or passes) one of the rules `rules_for` may leave out, or hides a `$`, `...`
# or `fragment` where only the text, not the tree, has it.
DOCUMENTS = [
    '{ partner(key: "c40") { name } }',
    'query Q($key: String!) { partner(key: "c40") { name } }',  # unused variable
    "{ partner(key: $key) { name } }",  # undefined variable
    "query Q($key: Int) { partner(key: $key) { name } }",  # variable in the wrong place
    "query Q($key: String!, $key: String!) { partner(key: $key) { name } }",
    "query Q($key: Partner) { partner(key: $key) { name } }",  # not an input type
    '{ partner(key: "c40") { name } } fragment Unused on Partner { key }',
    '{ partner(key: "c40") { ...Missing } }',
    '{ partner(key: "c40") { ...F } } fragment F on Partner { ...F }',  # a cycle
    '{ partner(key: "c40") { ...F } } fragment F on Partner { key } fragment F on Partner { name }',
    '{ partner(key: "c40") { ... on Membership { since } } }',  # never a Partner
    '{ partner(key: "c40") { ...F } } fragment F on String { key }',  # on a scalar
    '{ partner(key: "c40") { ... on Partner { name } } }',
    '{ partner(key: "$ ... fragment") { name } }',  # the pieces in a string only
    '# fragment $ ...\n{ partner(key: "c40") { name } }',  # and in a comment
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_rules_left_out_would_have_reported_nothing(text: str) -> None:
    document = parse(text)
    full = [error.message for error in validate(SCHEMA, document, specified_rules)]
    chosen = [
        error.message for error in validate(SCHEMA, document, rules_for(text, specified_rules))
    ]
    assert chosen == full


def test_a_plain_document_is_validated_without_the_variable_and_fragment_rules() -> None:
    chosen = rules_for('{ partner(key: "c40") { name } }', specified_rules)
    assert len(chosen) == len(specified_rules) - 11
    with_all = "{ partner(key: $k) { ...F ... on Partner { key } } } fragment F on Partner { key }"
    assert rules_for(with_all, specified_rules) == tuple(specified_rules)


async def test_the_server_still_refuses_what_the_left_out_rules_catch(client: Client) -> None:
    for text, words in [
        ('{ partner(key: "c40") { name } } fragment Unused on Partner { key }', "Unused"),
        ("{ partner(key: $key) { name } }", "$key"),
    ]:
        response = await client.http.post("/graphql", json={"query": text})
        errors = response.json()["errors"]
        assert any(words in error["message"] for error in errors), errors
