"""Programs: launched with a lead, joined and left by partners, concluded, corrected."""

from __future__ import annotations

from typing import Any

import pytest

from domain.commands import (
    ConcludeProgram,
    CorrectProgram,
    JoinProgram,
    LaunchProgram,
    LeaveProgram,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    DomainEvent,
    PartnerJoinedProgram,
    PartnerLeftProgram,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
)
from tests.domain.scenario import SOURCE, city, d, network, when

PARTNERS = [city("tokyo"), city("beijing"), city("yangon"), network("c40")]


def launch(**extra: Any) -> LaunchProgram:
    values: dict[str, Any] = {
        "key": "beijing-air-quality",
        "name": "Technology exchange with Beijing",
        "field": "air_quality",
        "kind": "technology_exchange",
        "lead": "tokyo",
        "partners": ["beijing"],
        "topics": ["PM2.5", "VOCs"],
        "since": d("2015"),
        **extra,
    }
    return LaunchProgram(source=SOURCE, **values)


def launched() -> list[DomainEvent]:
    return [*PARTNERS, *when(PARTNERS, launch())]


def test_launching_emits_the_program_and_each_partner_joining() -> None:
    assert when(PARTNERS, launch()) == [
        ProgramLaunched(
            key="beijing-air-quality",
            name="Technology exchange with Beijing",
            field="air_quality",
            kind="technology_exchange",
            topics=["PM2.5", "VOCs"],
            lead="tokyo",
            since=d("2015"),
        ),
        PartnerJoinedProgram(
            participation_id="beijing-air-quality/beijing#1",
            program="beijing-air-quality",
            partner="beijing",
            since=d("2015"),
        ),
    ]


@pytest.mark.parametrize(
    ("extra", "error", "message"),
    [
        ({"field": "space"}, ValidationError, "field 'space' is not known"),
        ({"kind": "summit"}, ValidationError, "kind 'summit' is not known"),
        ({"partners": ["osaka"]}, NotFound, "partner 'osaka' is not registered"),
        ({"partners": ["tokyo"]}, ValidationError, "tokyo leads the program"),
        ({"kind": "network_initiative"}, ValidationError, "must name its network"),
        ({"network": "yangon"}, ValidationError, "'yangon' is a city, not a network"),
        ({"topics": ["PM2.5", "PM2.5"]}, ValidationError, "the same entry twice"),
    ],
)
def test_malformed_programs_are_refused(
    extra: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        when(PARTNERS, launch(**extra))


def test_a_program_is_launched_once() -> None:
    with pytest.raises(Conflict, match="already been launched"):
        when(launched(), launch())


def test_joining_and_leaving() -> None:
    join = JoinProgram(
        source=SOURCE, program="beijing-air-quality", partner="yangon", since=d("2018")
    )
    (joined,) = when(launched(), join)
    assert joined == PartnerJoinedProgram(
        participation_id="beijing-air-quality/yangon#1",
        program="beijing-air-quality",
        partner="yangon",
        since=d("2018"),
    )
    leave = LeaveProgram(
        source=SOURCE, participation_id="beijing-air-quality/yangon#1", until=d("2019")
    )
    assert when([*launched(), joined], leave) == [
        PartnerLeftProgram(
            participation_id="beijing-air-quality/yangon#1",
            program="beijing-air-quality",
            partner="yangon",
            until=d("2019"),
        )
    ]
    with pytest.raises(
        NotFound,
        match="program beijing-air-quality has no participation 'beijing-air-quality/yangon#1'",
    ):
        when(launched(), leave)


def test_joining_twice_or_before_the_program_is_refused() -> None:
    again = JoinProgram(
        source=SOURCE, program="beijing-air-quality", partner="beijing", since=d("2016")
    )
    with pytest.raises(Conflict, match="beijing already takes part"):
        when(launched(), again)
    early = JoinProgram(
        source=SOURCE, program="beijing-air-quality", partner="yangon", since=d("2010")
    )
    with pytest.raises(ValidationError, match=r"joining \(2010\) is before the program's start"):
        when(launched(), early)
    with pytest.raises(NotFound, match="program 'nothing' has not been launched"):
        when(PARTNERS, JoinProgram(source=SOURCE, program="nothing", partner="yangon"))


def test_concluding_once_and_in_order() -> None:
    conclude = ConcludeProgram(source=SOURCE, key="beijing-air-quality", until=d("2020"))
    assert when(launched(), conclude) == [
        ProgramConcluded(key="beijing-air-quality", until=d("2020"))
    ]
    with pytest.raises(Conflict, match=r"already concluded \(2020\)"):
        when([*launched(), ProgramConcluded(key="beijing-air-quality", until=d("2020"))], conclude)
    early = ConcludeProgram(source=SOURCE, key="beijing-air-quality", until=d("2014"))
    with pytest.raises(ValidationError, match="before it starts"):
        when(launched(), early)


def test_correcting_a_program_keeps_what_is_not_named() -> None:
    command = CorrectProgram(
        source=SOURCE, reason="wrong field", key="beijing-air-quality", topics=["PM2.5"]
    )
    (fixed,) = when(launched(), command)
    assert isinstance(fixed, ProgramCorrected)
    assert (fixed.topics, fixed.lead, fixed.corrected_fields) == (["PM2.5"], "tokyo", ["topics"])
    with pytest.raises(NotFound, match="partner 'osaka'"):
        when(launched(), CorrectProgram(source=SOURCE, key="beijing-air-quality", lead="osaka"))
