"""Arguments that cannot mean anything are refused with a message saying why."""

from __future__ import annotations

import pytest

from tests.api.conftest import Client


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ('{ partner(key: "tokyo", atPosition: -3) { name } }', "BAD_USER_INPUT", "not in the log"),
        ('{ partner(key: "tokyo", atPosition: 99999) { name } }', "BAD_USER_INPUT", "runs from 0"),
        (
            '{ partner(key: "tokyo", atPosition: 5, knownAt: "2030-01-01T00:00:00Z") { name } }',
            "BAD_USER_INPUT",
            "not both",
        ),
        (
            '{ changes(from: "2010-01-01", to: "2009-12-31") { nodes { key } } }',
            "BAD_USER_INPUT",
            "ends (2009-12-31) before it starts (2010-01-01)",
        ),
        (
            '{ activities(from: "2021-01-01", to: "2020-01-01") { totalCount } }',
            "BAD_USER_INPUT",
            "before it starts",
        ),
        (
            "{ recordedChanges(afterPosition: -1) { nodes { key } } }",
            "BAD_USER_INPUT",
            "must be from 0",
        ),
        (
            "{ recordedChanges(afterPosition: 9, untilPosition: 3) { nodes { key } } }",
            "BAD_USER_INPUT",
            "must be from 0",
        ),
        ("{ events(after: -5) { totalCount } }", "BAD_USER_INPUT", "0 or more"),
    ],
)
async def test_arguments_that_mean_nothing_are_refused(
    client: Client, query: str, code: str, message: str
) -> None:
    body = await client.post(query)
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert message in body["errors"][0]["message"]


async def test_a_position_within_the_log_is_answered(client: Client) -> None:
    head = (await client.data("{ events(first: 1) { totalCount } }"))["events"]["totalCount"]
    query = 'query($at: Int) { partner(key: "tokyo", atPosition: $at) { name } }'
    for position in (0, head):
        body = await client.post(query, {"at": position})
        assert "errors" not in body, body


async def test_a_refused_field_leaves_its_siblings_answer_intact(client: Client) -> None:
    """The refusal is the only error: a sibling still running keeps its connection."""
    query = """{ a: partner(key: "tokyo") { name memberships { nodes { network { name } } } }
                 b: partners(atPosition: 99999) { totalCount } }"""
    for _ in range(5):
        body = await client.post(query)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "not in the log" in body["errors"][0]["message"]
