"""Retractions: a fact recorded in error is withdrawn, with a reason, unless others rest on it."""

from __future__ import annotations

import pytest

from domain.commands import (
    AssignRole,
    RetractActivity,
    RetractCommitment,
    RetractMembership,
    RetractPartner,
    RetractProgram,
    RetractRole,
    StartMembership,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    ActivityRecorded,
    ActivityRetracted,
    CommitmentAnnounced,
    CommitmentRetracted,
    MembershipRetracted,
    PartnerRetracted,
    ProgramLaunched,
    ProgramRetracted,
    RoleAssigned,
    RoleRetracted,
)
from domain.rules import declared
from tests.domain.scenario import SOURCE, TOKYO_IN_C40, city, d, joined, when

WHY = "recorded from the wrong document"
IN_C40 = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006")]
VICE_CHAIR = RoleAssigned(
    role_id="tokyo@c40#role-1",
    holder="tokyo",
    network="c40",
    position="vice chair",
    since=d("2020"),
    notes=[],
)
RETRACTED = MembershipRetracted(membership_id="tokyo@c40#1", member="tokyo", network="c40")


def test_a_membership_is_withdrawn_with_its_reason() -> None:
    command = RetractMembership(source=SOURCE, membership_id="tokyo@c40#1", reason=WHY)
    assert when(IN_C40, command) == [RETRACTED]


def test_a_retraction_needs_a_reason() -> None:
    command = RetractMembership(source=SOURCE, membership_id="tokyo@c40#1", reason="  ")
    with pytest.raises(ValidationError, match="needs a reason"):
        when(IN_C40, command)


def test_a_membership_a_role_lies_within_is_not_withdrawn_and_the_role_is_named() -> None:
    command = RetractMembership(source=SOURCE, membership_id="tokyo@c40#1", reason=WHY)
    with pytest.raises(Conflict, match=r"tokyo@c40#role-1.*retract or correct the role first"):
        when([*IN_C40, VICE_CHAIR], command)


def test_once_its_role_is_withdrawn_the_membership_can_be() -> None:
    role_gone = RoleRetracted(role_id="tokyo@c40#role-1", holder="tokyo", network="c40")
    command = RetractMembership(source=SOURCE, membership_id="tokyo@c40#1", reason=WHY)
    assert when([*IN_C40, VICE_CHAIR, role_gone], command) == [RETRACTED]


def test_a_withdrawn_membership_is_gone_for_the_rules_but_its_number_is_not_reused() -> None:
    gone = [*IN_C40, RETRACTED]
    again = when(
        gone, StartMembership(source=SOURCE, member="tokyo", network="c40", since=d("2007"))
    )
    assert [event.membership_id for event in again] == ["tokyo@c40#2"]  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="was retracted"):
        when(gone, RetractMembership(source=SOURCE, membership_id="tokyo@c40#1", reason=WHY))
    role = AssignRole(source=SOURCE, holder="tokyo", network="c40", title="vice chair")
    with pytest.raises(Conflict, match="not a member"):
        when(gone, role)


def test_a_role_is_withdrawn() -> None:
    command = RetractRole(source=SOURCE, role_id="tokyo@c40#role-1", reason=WHY)
    assert when([*IN_C40, VICE_CHAIR], command) == [
        RoleRetracted(role_id="tokyo@c40#role-1", holder="tokyo", network="c40")
    ]


def test_partners_programs_activities_and_commitments_are_withdrawn() -> None:
    program = ProgramLaunched(
        key="qa",
        name="QA",
        field="air_quality",
        kind="bilateral_program",
        topics=[],
        lead="tokyo",
        since=d("2019"),
    )
    activity = ActivityRecorded(
        key="meeting",
        name="Meeting",
        kind="workshop",
        on=d("2020"),
        participants=[],
        representatives=[],
    )
    commitment = CommitmentAnnounced(
        key="pledge",
        by="tokyo",
        on=d("2020"),
        statement="Cleaner air",
        focus_areas=[],
        collaborators=[],
    )
    history = [*TOKYO_IN_C40, city("osaka"), program, activity, commitment]
    assert when(history, RetractPartner(source=SOURCE, key="osaka", reason=WHY)) == [
        PartnerRetracted(key="osaka")
    ]
    assert when(history, RetractProgram(source=SOURCE, key="qa", reason=WHY)) == [
        ProgramRetracted(key="qa")
    ]
    assert when(history, RetractActivity(source=SOURCE, key="meeting", reason=WHY)) == [
        ActivityRetracted(key="meeting")
    ]
    assert when(history, RetractCommitment(source=SOURCE, key="pledge", reason=WHY)) == [
        CommitmentRetracted(key="pledge")
    ]
    with pytest.raises(NotFound):
        when(history, RetractProgram(source=SOURCE, key="nope", reason=WHY))


def test_what_others_may_refer_to_is_checked_against_the_record_when_written() -> None:
    # Other streams may refer to a partner, a program or an activity: the rule cannot read
    # them all, so the write path checks the read models under the append's lock.
    needs_check = {r.command.__name__ for r in declared() if r.unreferenced is not None}
    assert needs_check == {"RetractPartner", "RetractProgram", "RetractActivity"}
