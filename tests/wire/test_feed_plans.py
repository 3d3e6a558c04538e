"""A planned answer is the executed answer: the same bytes, for every event, every feed and a
generated range of selections; what a plan does not cover is left to execution."""

from __future__ import annotations

import random
from typing import Any

import pytest

from domain.commands import EndMembership, RegisterPartner, StartMembership
from events.dates import PartialDate
from events.model import SourceRef
from schema.access import Principal
from schema.context import Context, FeedWindow
from schema.feed_plans import FEEDS, plan
from schema.root import build_schema
from service.fanout_answers import payload_text
from service.seeding import load_seed
from service.services import Services

SOURCE = SourceRef(document="tmg-international-cooperation", section="INTERNATIONAL COOPERATION")

# Each feed with the arguments its groups are formed with (literals and variables).
FEED_ARGUMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("events", "", {}),
    ("events", '(types: ["MembershipStarted"])', {}),  # filters are each subscriber's own
    ("membershipChanges", "", {}),
    ("membershipChanges", '(network: "c40")', {}),
    ("membershipChanges", "(member: $member)", {"member": "tokyo"}),
    ("membershipChanges", '(network: "c40", member: $member)', {"member": "osaka"}),
    ("membershipChanges", "(network: $network)", {}),  # a variable left out
    ("partnerChanges", "", {}),
    ("partnerChanges", "(key: $key)", {"key": "osaka"}),
]


def selections(field: str, count: int, seed: int) -> list[str]:
    """`count` selections of the feed's fields: random subsets in random order, some under
    aliases, some asked twice."""
    rng = random.Random(seed)
    names = list(FEEDS[field].fields)
    made = [" ".join(names)]
    for _ in range(count):
        chosen = rng.sample(names, rng.randint(1, len(names)))
        if rng.random() < 0.3:
            chosen.append(rng.choice(chosen))  # the same field twice: one key
        made.append(
            " ".join(
                f"a{n}: {name}" if rng.random() < 0.3 else name for n, name in enumerate(chosen)
            )
        )
    return made


async def executed(
    services: Services, query: str, variables: dict[str, Any]
) -> list[tuple[int, str]]:
    """Every answer of the subscription from the log's start to its head, executed as a
    group executes it (shared, unfiltered), with each answer's position."""
    head = (await services.store.head()).position

    async def join(_after: int) -> int:
        return head

    window = FeedWindow(after=0, join=join, shared=True, unfiltered=True)
    context = Context(
        services=services, request=None, principal=Principal(None, None), window=window
    )
    stream = await build_schema().subscribe(query, variable_values=variables, context_value=context)
    answers = []
    async for result in stream:  # type: ignore[union-attr]
        answers.append((window.position, payload_text(result)))
    return answers


async def planned(
    services: Services, query: str, variables: dict[str, Any]
) -> list[tuple[int, str]]:
    made = plan(query, variables, None)
    assert made is not None, query
    events = await services.store.read_all(after=0, limit=100_000)
    return [(e.position, made.answer(e).decode()) for e in events if made.answers(e)]


@pytest.fixture
async def history(services: Services) -> Services:
    """The seed, and a city joining and leaving a network, changing its name meanwhile."""
    await load_seed(services.commands)
    commands = services.commands
    await commands.execute(
        RegisterPartner(key="osaka", name="Osaka", kind="city", source=SOURCE), "test"
    )  # type: ignore[arg-type]
    started = await commands.execute(
        StartMembership(member="osaka", network="c40", since=PartialDate(2015), source=SOURCE),  # type: ignore[arg-type]
        "test",
    )
    membership = str(started.events[0].data["membership_id"])
    await commands.execute(
        EndMembership(membership_id=membership, until=PartialDate(2020), source=SOURCE),  # type: ignore[arg-type]
        "test",
    )
    return services


async def test_planned_answers_are_the_executed_answers_byte_for_byte(history: Services) -> None:
    compared = 0
    for n, (field, arguments, variables) in enumerate(FEED_ARGUMENTS):
        used = [name for name in ("member", "network", "key") if f"${name}" in arguments]
        declared = f"({', '.join(f'${name}: String' for name in used)})" if used else ""
        for selection in selections(field, 4, seed=n):
            query = f"subscription{declared} {{ {field}{arguments} {{ {selection} }} }}"
            expected = await executed(history, query, variables)
            assert await planned(history, query, variables) == expected, query
            compared += len(expected)
    assert compared > 200  # every feed answered events, not only empty lists


@pytest.mark.parametrize(
    "query",
    [
        "subscription { events { position metadata } }",  # for auditors: checked per subscriber
        "subscription { events { ... on Event { position } } }",
        "subscription { events { ...E } } fragment E on Event { position }",
        "subscription($x: Boolean!) { events { position @include(if: $x) } }",
        "subscription { membershipChanges { position membership { since } } }",
        "subscription { partnerChanges { partner { name } } }",
        "query { __typename }",
        "subscription {",
    ],
)
def test_what_a_plan_does_not_cover_is_executed(query: str) -> None:
    assert plan(query, {"x": True}, None) is None
