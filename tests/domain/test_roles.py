"""Roles and bodies: a position held within a membership, refused only when certainly outside."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.commands import (
    AssignRole,
    CorrectMembership,
    CorrectRole,
    EndMembership,
    EndRole,
    RecordBodySize,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import BodySizeRecorded, RoleAssigned, RoleCorrected, RoleEnded
from tests.domain.scenario import (
    SOURCE,
    TOKYO_IN_C40,
    d,
    joined,
    left,
    steering_committee,
    when,
)

MEMBER_SINCE_2006 = [*TOKYO_IN_C40, joined("tokyo", "c40", "2006"), steering_committee()]


def assign(**extra: Any) -> AssignRole:
    values: dict[str, Any] = {"title": "vice chair", **extra}
    return AssignRole(source=SOURCE, holder="tokyo", network="c40", **values)


def vice_chair(since: str = "unknown", held_as_of: str | None = "2020-12") -> RoleAssigned:
    return RoleAssigned(
        role_id="tokyo@c40#role-1",
        holder="tokyo",
        network="c40",
        position="vice chair",
        holder_title="Governor of Tokyo",
        since=d(since),
        held_as_of=None if held_as_of is None else d(held_as_of),
        notes=[],
    )


def test_the_governor_as_vice_chair_with_the_holders_title() -> None:
    command = assign(holder_title="Governor of Tokyo", held_as_of=d("2020-12"))
    assert when(MEMBER_SINCE_2006, command) == [vice_chair()]


def test_a_seat_on_a_body_needs_the_body() -> None:
    command = assign(title="member", body="steering-committee", held_as_of=d("2020-11"))
    (seat,) = when(MEMBER_SINCE_2006, command)
    assert isinstance(seat, RoleAssigned)
    assert seat.body == "steering-committee"
    with pytest.raises(NotFound, match="c40 has no body 'board'"):
        when(MEMBER_SINCE_2006, assign(body="board"))


def test_a_role_for_a_non_member_is_refused() -> None:
    with pytest.raises(Conflict, match="tokyo is not a member of c40"):
        when(TOKYO_IN_C40, assign(since=d("2010")))


def test_a_role_certainly_before_the_membership_is_refused() -> None:
    with pytest.raises(Conflict, match=r"only from 2006 with no end; the role .* from 2004"):
        when(MEMBER_SINCE_2006, assign(since=d("2004")))
    with pytest.raises(Conflict, match="lies outside"):
        when(MEMBER_SINCE_2006, assign(held_as_of=d("2005-03")))


def test_a_role_after_the_membership_ended_is_refused() -> None:
    history = [*MEMBER_SINCE_2006, left("tokyo", "c40", "2008")]
    with pytest.raises(Conflict, match="from 2006 to 2008"):
        when(history, assign(since=d("2010")))


def test_a_membership_cannot_end_or_shrink_from_under_its_roles() -> None:
    with_role = [*MEMBER_SINCE_2006, vice_chair(since="2019")]  # held as of 2020-12
    end = EndMembership(source=SOURCE, membership_id="tokyo@c40#1", until=d("2019"))
    with pytest.raises(Conflict, match=r"tokyo@c40#role-1\) would lie outside it: end or"):
        when(with_role, end)
    # An end the dates cannot rule out is kept, as for the role itself.
    assert when(with_role, replace(end, until=d("2021")))[0] == left("tokyo", "c40", "2021")
    role_ended = [*with_role, role_ended_in("2021")]
    earlier = EndMembership(source=SOURCE, membership_id="tokyo@c40#1", until=d("2015"))
    with pytest.raises(Conflict, match="only from 2006 to 2015"):
        when(role_ended, earlier)
    moved = CorrectMembership(source=SOURCE, membership_id="tokyo@c40#1", since=d("2020-06"))
    with pytest.raises(Conflict, match="would lie outside it"):
        when(role_ended, moved)


def role_ended_in(until: str) -> RoleEnded:
    return RoleEnded(
        role_id="tokyo@c40#role-1", holder="tokyo", network="c40", position="vice chair",
        until=d(until),
    )  # fmt: skip


def test_a_role_the_dates_cannot_place_is_kept() -> None:
    assert len(when(MEMBER_SINCE_2006, assign(since=d("2006")))) == 1
    assert len(when(MEMBER_SINCE_2006, assign())) == 1
    unknown_start = [*TOKYO_IN_C40, joined("tokyo", "c40", "unknown")]
    assert len(when(unknown_start, assign(since=d("1990")))) == 1


def test_an_attested_date_must_fall_within_the_role() -> None:
    with pytest.raises(ValidationError, match="cannot have held as of 2010"):
        when(MEMBER_SINCE_2006, assign(since=d("2012"), held_as_of=d("2010")))


def test_the_same_position_twice_at_once_is_refused() -> None:
    with pytest.raises(Conflict, match=r"already holds vice chair of c40 .*tokyo@c40#role-1"):
        when([*MEMBER_SINCE_2006, vice_chair()], assign(since=d("2021")))


def test_ending_a_role() -> None:
    command = EndRole(source=SOURCE, role_id="tokyo@c40#role-1", until=d("2023"))
    assert when([*MEMBER_SINCE_2006, vice_chair()], command) == [
        RoleEnded(
            role_id="tokyo@c40#role-1",
            holder="tokyo",
            network="c40",
            position="vice chair",
            until=d("2023"),
        )
    ]
    with pytest.raises(ValidationError, match="held as of 2020-12; it cannot end in 2019"):
        when(
            [*MEMBER_SINCE_2006, vice_chair()], EndRole(**{**command.__dict__, "until": d("2019")})
        )
    with pytest.raises(NotFound, match="tokyo has no role 'tokyo@c40#role-1' in c40"):
        when(MEMBER_SINCE_2006, command)


def test_correcting_a_role() -> None:
    command = CorrectRole(
        source=SOURCE,
        reason="the minutes give the start",
        role_id="tokyo@c40#role-1",
        since=d("2019-06"),
    )
    (fixed,) = when([*MEMBER_SINCE_2006, vice_chair()], command)
    assert isinstance(fixed, RoleCorrected)
    assert (fixed.since, fixed.corrected_fields) == (d("2019-06"), ["since"])
    assert fixed.holder_title == "Governor of Tokyo"
    with pytest.raises(Conflict, match="lies outside"):
        when(
            [*MEMBER_SINCE_2006, vice_chair()],
            CorrectRole(**{**command.__dict__, "since": d("2000")}),
        )


def test_a_body_size_as_of_a_month() -> None:
    command = RecordBodySize(
        source=SOURCE, network="c40", body="steering-committee", size=16, as_of=d("2020-11")
    )
    assert when([steering_committee()], command) == [
        BodySizeRecorded(network="c40", body="steering-committee", size=16, as_of=d("2020-11"))
    ]
    with pytest.raises(ValidationError, match="not 0"):
        when([steering_committee()], RecordBodySize(**{**command.__dict__, "size": 0}))
    with pytest.raises(NotFound, match="c40 has no body 'steering-committee'"):
        when([], command)


def test_correcting_a_seat_need_not_restate_its_body() -> None:
    seat = RoleAssigned(
        role_id="tokyo@c40#role-1",
        holder="tokyo",
        network="c40",
        body="steering-committee",
        position="member",
        since=d("unknown"),
        held_as_of=d("2020-11"),
        notes=[],
    )
    command = CorrectRole(source=SOURCE, role_id="tokyo@c40#role-1", holder_title="Governor")
    (fixed,) = when([*MEMBER_SINCE_2006, seat], command)
    assert isinstance(fixed, RoleCorrected)
    assert (fixed.body, fixed.holder_title) == ("steering-committee", "Governor")


def test_a_role_cannot_end_after_its_membership_did() -> None:
    history = [*MEMBER_SINCE_2006, vice_chair(since="2012", held_as_of=None)]
    history.append(left("tokyo", "c40", "2015"))
    late = EndRole(source=SOURCE, role_id="tokyo@c40#role-1", until=d("2018"))
    with pytest.raises(Conflict, match="from 2006 to 2015; the role vice chair of c40"):
        when(history, late)
    assert when(history, replace(late, until=d("2015")))


def test_a_role_already_outside_does_not_block_an_unrelated_correction() -> None:
    """A record made before the rule may hold a role outside its membership already."""
    history = [
        *MEMBER_SINCE_2006,
        vice_chair(since="2012", held_as_of=None),
        left("tokyo", "c40", "2015"),
        role_ended_in("2018"),
    ]
    notes = CorrectMembership(source=SOURCE, membership_id="tokyo@c40#1", notes=["typo fixed"])
    (corrected,) = when(history, notes)
    assert corrected.notes == ["typo fixed"]  # type: ignore[attr-defined]
