"""Memberships: periods of a member in a network, with dates at the source's precision."""

from __future__ import annotations

from typing import Any

import pytest

from domain.commands import CorrectMembership, EndMembership, StartMembership
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import MembershipCorrected, MembershipEnded, MembershipStarted
from tests.domain.scenario import SOURCE, TOKYO_IN_C40, city, d, joined, left, when


def start(since: str = "unknown", member: str = "tokyo", **extra: Any) -> StartMembership:
    return StartMembership(source=SOURCE, member=member, network="c40", since=d(since), **extra)


def end(until: str, membership_id: str = "tokyo@c40#1") -> EndMembership:
    return EndMembership(source=SOURCE, membership_id=membership_id, until=d(until))


def test_joining_keeps_the_precision_and_notes_given() -> None:
    notes = ["the only single city government entity", "the first member from the Asian region"]
    assert when(TOKYO_IN_C40, start("2009-05", notes=notes)) == [
        MembershipStarted(
            membership_id="tokyo@c40#1",
            member="tokyo",
            network="c40",
            since=d("2009-05"),
            notes=notes,
        )
    ]


def test_an_unknown_start_is_kept_as_unknown() -> None:
    (started,) = when(TOKYO_IN_C40, start())
    assert isinstance(started, MembershipStarted)
    assert str(started.since) == "unknown"


def test_an_unregistered_member_is_named() -> None:
    with pytest.raises(NotFound, match="partner 'osaka' is not registered") as error:
        when(TOKYO_IN_C40, start("2006", member="osaka"))
    assert error.value.code == "NOT_FOUND"


def test_a_city_is_not_a_network() -> None:
    command = StartMembership(source=SOURCE, member="c40", network="tokyo", since=d("2006"))
    with pytest.raises(ValidationError, match="partner 'tokyo' is a city, not a network"):
        when(TOKYO_IN_C40, command)


def test_an_open_membership_refuses_an_overlapping_one() -> None:
    with pytest.raises(Conflict) as error:
        when([*TOKYO_IN_C40, joined("tokyo", "c40", "2006")], start("2010"))
    assert str(error.value) == (
        "tokyo is already a member of c40 from 2006 with no end;"
        " a membership from 2010 would overlap it"
    )
    assert error.value.code == "CONFLICT"


def test_an_unknown_start_beside_an_open_membership_certainly_overlaps() -> None:
    with pytest.raises(Conflict, match="from an unknown date"):
        when([*TOKYO_IN_C40, joined("tokyo", "c40", "2006")], start())


def test_rejoining_after_an_end_is_a_second_period() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    (started,) = when(history, start("2010"))
    assert isinstance(started, MembershipStarted)
    assert started.membership_id == "tokyo@c40#2"


def test_rejoining_in_the_year_it_ended_cannot_be_decided_and_is_kept() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    assert len(when(history, start("2008"))) == 1


def test_rejoining_before_the_end_is_refused() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    with pytest.raises(Conflict, match="from 2006 to 2008; a membership from 2007"):
        when(history, start("2007"))


def test_ending_in_the_year_it_started_is_accepted() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006")]
    assert when(history, end("2006")) == [
        MembershipEnded(membership_id="tokyo@c40#1", member="tokyo", network="c40", until=d("2006"))
    ]


def test_ending_before_it_started_is_refused() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006")]
    with pytest.raises(ValidationError, match=r"would end \(2005\) before it starts \(2006\)"):
        when(history, end("2005"))


def test_ending_a_membership_with_an_unknown_start_is_kept() -> None:
    assert len(when([*TOKYO_IN_C40, joined("tokyo", "c40", "unknown")], end("2001"))) == 1


def test_ending_what_never_started_is_not_found() -> None:
    with pytest.raises(NotFound, match="tokyo has no membership 'tokyo@c40#1' in c40"):
        when(TOKYO_IN_C40, end("2010"))


def test_ending_twice_is_a_conflict() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    with pytest.raises(Conflict, match=r"tokyo@c40#1 already ended \(2008\)"):
        when(history, end("2010"))


def correct(**changes: Any) -> CorrectMembership:
    return CorrectMembership(
        source=SOURCE,
        reason="the annual report says 2007",
        membership_id="tokyo@c40#1",
        **changes,
    )


def test_a_correction_names_the_membership_the_new_values_and_what_changed() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006")]
    assert when(history, correct(since=d("2007"))) == [
        MembershipCorrected(
            membership_id="tokyo@c40#1",
            member="tokyo",
            network="c40",
            since=d("2007"),
            until=None,
            notes=[],
            corrected_fields=["since"],
        )
    ]


def test_a_correction_can_reopen_an_ended_membership() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    (fixed,) = when(history, correct(clear=["until"]))
    assert isinstance(fixed, MembershipCorrected)
    assert (fixed.until, fixed.corrected_fields) == (None, ["until"])


def test_a_correction_keeps_the_rules() -> None:
    history = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), left("tokyo", "c40", "2008")]
    with pytest.raises(ValidationError, match="before it starts"):
        when(history, correct(until=d("2005")))
    with pytest.raises(ValidationError, match="nothing would change"):
        when(history, correct(since=d("2006")))
    with pytest.raises(ValidationError, match="cannot clear since"):
        when(history, correct(clear=["since"]))
    with pytest.raises(NotFound, match="no membership 'tokyo@c40#9'"):
        when(history, CorrectMembership(**{**correct().__dict__, "membership_id": "tokyo@c40#9"}))


def test_a_correction_may_not_make_two_periods_overlap() -> None:
    history = [
        *TOKYO_IN_C40,
        joined("tokyo", "c40", "2006"),
        left("tokyo", "c40", "2008"),
        joined("tokyo", "c40", "2010", number=2),
    ]
    with pytest.raises(Conflict, match="would overlap"):
        when(history, correct(clear=["until"]))


def test_a_member_cannot_join_itself() -> None:
    command = StartMembership(source=SOURCE, member="c40", network="c40")
    with pytest.raises(ValidationError, match="member of itself"):
        when([*TOKYO_IN_C40, city("paris")], command)
