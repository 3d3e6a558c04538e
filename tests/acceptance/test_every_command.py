"""Every command of the domain as a mutation: given what it needs, it writes, it answers
with the object as it now stands, and its positions continue the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.acceptance.support import Coop

Step = tuple[str, dict[str, Any]]  # a mutation's name and its input


@dataclass(frozen=True)
class IdOf:
    """In an input: the global id of an object already recorded, asked for when the step runs."""

    kind: str
    key: str


SEOUL = {"key": "seoul", "name": "Seoul", "kind": "CITY", "country": "South Korea"}
CITE = {"document": "qa-doc", "section": "One"}
QA_DOC: Step = ("registerSource", {"key": "qa-doc", "title": "QA document", "sections": ["One"]})
SEOUL_REGISTERED: Step = ("registerPartner", SEOUL)
IN_C40: Step = ("startMembership", {"member": "seoul", "network": "c40", "since": "2008-03"})
BOARD: Step = ("registerBody", {"network": "c40", "body": "qa-board", "name": "QA Board"})
TREASURER: Step = (
    "assignRole",
    {
        "holder": "seoul",
        "network": "c40",
        "title": "treasurer",
        "body": "qa-board",
        "since": "2021-02",
    },
)
PROGRAM: Step = (
    "launchProgram",
    {
        "key": "qa-program",
        "name": "QA program",
        "field": "AIR_QUALITY",
        "kind": "BILATERAL_PROGRAM",
        "lead": "tokyo",
        "partners": ["seoul"],
        "since": "2019",
    },
)
BEIJING_JOINS: Step = (
    "joinProgram",
    {"program": "qa-program", "partner": "beijing", "since": "2020"},
)
WORKSHOP: Step = (
    "recordActivity",
    {
        "key": "qa-workshop",
        "name": "QA workshop",
        "kind": "WORKSHOP",
        "on": "2021-02-03",
        "organiser": "tokyo",
        "participants": ["seoul"],
        "program": "qa-program",
    },
)
COMMITMENT: Step = (
    "announceCommitment",
    {
        "key": "qa-commitment",
        "by": "tokyo",
        "statement": "Cleaner air",
        "on": "2021-02",
        "activity": "qa-workshop",
        "collaborators": ["seoul"],
    },
)
ROLE_ID = "seoul@c40#role-1"
SEOUL_ID = IdOf("partner", "seoul")
MEMBERSHIP_ID = IdOf("membership", "seoul@c40#1")
PROGRAM_ID = IdOf("program", "qa-program")
IN_ERROR = "recorded in error"


@dataclass(frozen=True)
class Case:
    """Given these steps, when this mutation, then its payload holds `then`."""

    when: Step
    selection: str
    then: dict[str, Any]
    given: list[Step] = field(default_factory=list)


CASES = [
    Case(
        QA_DOC,
        "source { key title sections }",
        {"source": {"key": "qa-doc", "title": "QA document", "sections": ["One"]}},
    ),
    Case(
        ("registerPartner", {**SEOUL, "source": CITE}),
        "partner { key provenance { nodes { source { document section } } } } streamVersion",
        {
            "partner": {"key": "seoul", "provenance": {"nodes": [{"source": CITE}]}},
            "streamVersion": 1,
        },
        [QA_DOC],
    ),
    Case(
        ("updatePartner", {"id": SEOUL_ID, "name": "Seoul City", "effective": "2021"}),
        "partner { name } streamVersion",
        {"partner": {"name": "Seoul City"}, "streamVersion": 2},
        [SEOUL_REGISTERED],
    ),
    Case(
        ("correctPartner", {"id": SEOUL_ID, "country": "Republic of Korea"}),
        "partner { country } streamVersion",
        {"partner": {"country": "Republic of Korea"}, "streamVersion": 2},
        [SEOUL_REGISTERED],
    ),
    Case(
        IN_C40,
        "membership { membershipId since until member { key } network { key } }",
        {
            "membership": {
                "membershipId": "seoul@c40#1",
                "since": "2008-03",
                "until": None,
                "member": {"key": "seoul"},
                "network": {"key": "c40"},
            }
        },
        [SEOUL_REGISTERED],
    ),
    Case(
        ("retractPartner", {"id": SEOUL_ID, "reason": IN_ERROR}),
        "partner { key name } streamVersion",
        {"partner": {"key": "seoul", "name": "Seoul"}, "streamVersion": 2},
        [SEOUL_REGISTERED],
    ),
    Case(
        ("correctMembership", {"id": MEMBERSHIP_ID, "since": "2008-04"}),
        "membership { since }",
        {"membership": {"since": "2008-04"}},
        [SEOUL_REGISTERED, IN_C40],
    ),
    Case(
        ("endMembership", {"id": MEMBERSHIP_ID, "until": "2023-06"}),
        "membership { until }",
        {"membership": {"until": "2023-06"}},
        [SEOUL_REGISTERED, IN_C40],
    ),
    Case(
        ("retractMembership", {"id": MEMBERSHIP_ID, "reason": IN_ERROR}),
        "membership { membershipId since }",
        {"membership": {"membershipId": "seoul@c40#1", "since": "2008-03"}},
        [SEOUL_REGISTERED, IN_C40],
    ),
    Case(BOARD, "body { key name }", {"body": {"key": "qa-board", "name": "QA Board"}}),
    Case(
        (
            "recordBodySize",
            {"network": "c40", "body": "qa-board", "size": 5, "asOf": "2021-01"},
        ),
        "body { size sizeAsOf }",
        {"body": {"size": 5, "sizeAsOf": "2021-01"}},
        [BOARD],
    ),
    Case(
        TREASURER,
        "role { roleId title since holder { key } body { key } }",
        {
            "role": {
                "roleId": ROLE_ID,
                "title": "treasurer",
                "since": "2021-02",
                "holder": {"key": "seoul"},
                "body": {"key": "qa-board"},
            }
        },
        [SEOUL_REGISTERED, IN_C40, BOARD],
    ),
    Case(
        (
            "correctRole",
            {"id": IdOf("role", ROLE_ID), "body": "qa-board", "holderTitle": "Mayor"},
        ),
        "role { holderTitle }",
        {"role": {"holderTitle": "Mayor"}},
        [SEOUL_REGISTERED, IN_C40, BOARD, TREASURER],
    ),
    Case(
        ("endRole", {"id": IdOf("role", ROLE_ID), "until": "2022"}),
        "role { until }",
        {"role": {"until": "2022"}},
        [SEOUL_REGISTERED, IN_C40, BOARD, TREASURER],
    ),
    Case(
        ("retractRole", {"id": IdOf("role", ROLE_ID), "reason": IN_ERROR}),
        "role { roleId title }",
        {"role": {"roleId": ROLE_ID, "title": "treasurer"}},
        [SEOUL_REGISTERED, IN_C40, BOARD, TREASURER],
    ),
    Case(
        PROGRAM,
        "program { key status since lead { key } partners { nodes { partner { key } } } }",
        {
            "program": {
                "key": "qa-program",
                "status": "ACTIVE",
                "since": "2019",
                "lead": {"key": "tokyo"},
                "partners": {"nodes": [{"partner": {"key": "seoul"}}]},
            }
        },
        [SEOUL_REGISTERED],
    ),
    Case(
        ("correctProgram", {"id": PROGRAM_ID, "name": "QA programme"}),
        "program { name }",
        {"program": {"name": "QA programme"}},
        [SEOUL_REGISTERED, PROGRAM],
    ),
    Case(
        ("concludeProgram", {"id": PROGRAM_ID, "until": "2024"}),
        "program { status until }",
        {"program": {"status": "CONCLUDED", "until": "2024"}},
        [SEOUL_REGISTERED, PROGRAM],
    ),
    Case(
        ("retractProgram", {"id": PROGRAM_ID, "reason": IN_ERROR}),
        "program { key name }",
        {"program": {"key": "qa-program", "name": "QA program"}},
        [SEOUL_REGISTERED, PROGRAM],
    ),
    Case(
        BEIJING_JOINS,
        "participation { since partner { key } program { key } }",
        {
            "participation": {
                "since": "2020",
                "partner": {"key": "beijing"},
                "program": {"key": "qa-program"},
            }
        },
        [SEOUL_REGISTERED, PROGRAM],
    ),
    Case(
        ("leaveProgram", {"id": IdOf("participation", "qa-program/beijing#1"), "until": "2021"}),
        "participation { until }",
        {"participation": {"until": "2021"}},
        [SEOUL_REGISTERED, PROGRAM, BEIJING_JOINS],
    ),
    Case(
        WORKSHOP,
        "activity { key on organiser { key } participants { nodes { key } } program { key } }",
        {
            "activity": {
                "key": "qa-workshop",
                "on": "2021-02-03",
                "organiser": {"key": "tokyo"},
                "participants": {"nodes": [{"key": "seoul"}]},
                "program": {"key": "qa-program"},
            }
        },
        [SEOUL_REGISTERED, PROGRAM],
    ),
    Case(
        ("correctActivity", {"id": IdOf("activity", "qa-workshop"), "on": "2021-02-04"}),
        "activity { on }",
        {"activity": {"on": "2021-02-04"}},
        [SEOUL_REGISTERED, PROGRAM, WORKSHOP],
    ),
    Case(
        ("retractActivity", {"id": IdOf("activity", "qa-workshop"), "reason": IN_ERROR}),
        "activity { key on }",
        {"activity": {"key": "qa-workshop", "on": "2021-02-03"}},
        [SEOUL_REGISTERED, PROGRAM, WORKSHOP],
    ),
    Case(
        COMMITMENT,
        "commitment { statement on by { key } activity { key }"
        " collaborators { nodes { name partner { key } } } }",
        {
            "commitment": {
                "statement": "Cleaner air",
                "on": "2021-02",
                "by": {"key": "tokyo"},
                "activity": {"key": "qa-workshop"},
                "collaborators": {"nodes": [{"name": "seoul", "partner": {"key": "seoul"}}]},
            }
        },
        [SEOUL_REGISTERED, PROGRAM, WORKSHOP],
    ),
    Case(
        (
            "correctCommitment",
            {"id": IdOf("commitment", "qa-commitment"), "statement": "Cleaner air by 2030"},
        ),
        "commitment { statement }",
        {"commitment": {"statement": "Cleaner air by 2030"}},
        [SEOUL_REGISTERED, PROGRAM, WORKSHOP, COMMITMENT],
    ),
    Case(
        ("retractCommitment", {"id": IdOf("commitment", "qa-commitment"), "reason": IN_ERROR}),
        "commitment { key statement }",
        {"commitment": {"key": "qa-commitment", "statement": "Cleaner air"}},
        [SEOUL_REGISTERED, PROGRAM, WORKSHOP, COMMITMENT],
    ),
]


async def resolved(coop: Coop, input: dict[str, Any]) -> dict[str, Any]:
    """The input with each `IdOf` replaced by the id the API gives that object."""
    return {
        name: await coop.id_of(value.kind, value.key) if isinstance(value, IdOf) else value
        for name, value in input.items()
    }


async def run(coop: Coop, steps: list[Step]) -> None:
    for name, input in steps:
        await coop.ok(name, await resolved(coop, input), "position")


@pytest.mark.parametrize("case", CASES, ids=[case.when[0] for case in CASES])
async def test_a_command_writes_and_answers_what_it_wrote(coop: Coop, case: Case) -> None:
    await run(coop, case.given)
    name, input = case.when
    input = await resolved(coop, input)
    head = await coop.head()
    payload = await coop.ok(name, input, f"{case.selection} position firstPosition replayed")
    assert payload["replayed"] is False
    assert payload["firstPosition"] == head + 1
    assert payload["position"] >= payload["firstPosition"]
    assert await coop.head() == payload["position"]
    assert {key: payload[key] for key in case.then} == case.then


async def test_every_mutation_is_among_the_cases(coop: Coop) -> None:
    fields = await coop.data('{ __type(name: "Mutation") { fields { name } } }')
    assert {f["name"] for f in fields["__type"]["fields"]} == {case.when[0] for case in CASES}


async def test_what_the_commands_wrote_reads_back(coop: Coop) -> None:
    await run(
        coop,
        [
            SEOUL_REGISTERED,
            ("updatePartner", {"id": SEOUL_ID, "name": "Seoul City", "effective": "2021"}),
            IN_C40,
            ("endMembership", {"id": MEMBERSHIP_ID, "until": "2023-06"}),
            PROGRAM,
            WORKSHOP,
            ("concludeProgram", {"id": PROGRAM_ID, "until": "2024"}),
        ],
    )
    read = await coop.data(
        '{ partner(key: "seoul") { name memberships { nodes { since until } }'
        " programs { nodes { key status } } }"
        ' program(key: "qa-program") { name status activities { nodes { key } } } }'
    )
    assert read["partner"]["name"] == "Seoul City"
    assert read["partner"]["memberships"]["nodes"] == [{"since": "2008-03", "until": "2023-06"}]
    assert read["partner"]["programs"]["nodes"] == [{"key": "qa-program", "status": "CONCLUDED"}]
    assert read["program"]["status"] == "CONCLUDED"
    assert [n["key"] for n in read["program"]["activities"]["nodes"]] == ["qa-workshop"]
