"""Memberships: a member in a network over periods. One stream per member and network.

A rule refuses what the dates show to be certainly impossible (an end before the start,
two periods that certainly share a day) and keeps what the precision cannot decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import CorrectMembership, EndMembership, StartMembership
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import MembershipCorrected, MembershipEnded, MembershipStarted
from domain.rules import partners
from domain.rules.checks import (
    check_key,
    check_order,
    check_texts,
    corrected,
    date_text,
    describe,
    replace,
)
from domain.rules.streams import Facts, Plan, membership_stream, partner_stream
from events.dates import PartialDate, Period


@dataclass(frozen=True)
class Membership:
    membership_id: str
    since: PartialDate
    until: PartialDate | None
    notes: list[str]

    @property
    def period(self) -> Period:
        return Period(self.since, self.until)


@dataclass(frozen=True)
class Memberships:
    """All periods of one member in one network, in the order they were recorded."""

    member: str
    network: str
    periods: tuple[Membership, ...] = ()

    def find(self, membership_id: str) -> Membership:
        for period in self.periods:
            if period.membership_id == membership_id:
                return period
        raise NotFound(f"{self.member} has no membership {membership_id!r} in {self.network}")

    def replaced(self, new: Membership) -> Memberships:
        periods = tuple(new if p.membership_id == new.membership_id else p for p in self.periods)
        return replace(self, periods=periods)


def evolve(state: Memberships, event: object) -> Memberships:
    match event:
        case MembershipStarted():
            started = Membership(event.membership_id, event.since, None, list(event.notes))
            return replace(state, periods=(*state.periods, started))
        case MembershipEnded():
            return state.replaced(replace(state.find(event.membership_id), until=event.until))
        case MembershipCorrected():
            fixed = Membership(event.membership_id, event.since, event.until, list(event.notes))
            return state.replaced(fixed)
    return state


def memberships(facts: Facts, member: str, network: str) -> Memberships:
    state = Memberships(member, network)
    for event in facts.events(membership_stream(member, network)):
        state = evolve(state, event)
    return state


def check_no_overlap(state: Memberships, period: Period, own_id: str | None = None) -> None:
    for other in state.periods:
        if other.membership_id != own_id and other.period.overlaps(period) is True:
            wanted = f"from {date_text(period.since)}" if period.until is None else describe(period)
            raise Conflict(
                f"{state.member} is already a member of {state.network} {describe(other.period)};"
                f" a membership {wanted} would overlap it"
            )


def plan_start(command: StartMembership) -> Plan:
    return Plan(
        membership_stream(command.member, command.network),
        (partner_stream(command.member), partner_stream(command.network)),
    )


def start(facts: Facts, command: StartMembership) -> list[object]:
    member, network = check_key("member", command.member), check_key("network", command.network)
    if member == network:
        raise ValidationError(f"{member} cannot be a member of itself")
    partners.require(facts, member)
    partners.require_network(facts, network)
    state = memberships(facts, member, network)
    check_no_overlap(state, Period(command.since))
    return [
        MembershipStarted(
            membership_id=f"{member}@{network}#{len(state.periods) + 1}",
            member=member,
            network=network,
            since=command.since,
            notes=check_texts("notes", command.notes),
        )
    ]


def plan_change(command: EndMembership | CorrectMembership) -> Plan:
    return Plan(membership_stream(command.member, command.network))


def _open_membership(state: Memberships) -> Membership:
    if not state.periods:
        raise NotFound(f"{state.member} has no membership in {state.network}")
    open_ = [period for period in state.periods if period.until is None]
    if not open_:
        last = state.periods[-1]
        raise Conflict(
            f"{state.member}'s membership of {state.network} already ended ({last.until})"
        )
    return open_[-1]


def end(facts: Facts, command: EndMembership) -> list[object]:
    state = memberships(facts, command.member, command.network)
    if command.membership_id is None:
        current = _open_membership(state)
    else:
        current = state.find(command.membership_id)
    if current.until is not None:
        raise Conflict(f"membership {current.membership_id} already ended ({current.until})")
    check_order(f"membership {current.membership_id}", current.since, command.until)
    return [
        MembershipEnded(
            membership_id=current.membership_id,
            member=state.member,
            network=state.network,
            until=command.until,
        )
    ]


def correct(facts: Facts, command: CorrectMembership) -> list[object]:
    state = memberships(facts, command.member, command.network)
    current = state.find(command.membership_id)
    values, changed = corrected(current, command, ("since", "until", "notes"), ("until", "notes"))
    check_order(f"membership {current.membership_id}", values["since"], values["until"])
    check_no_overlap(state, Period(values["since"], values["until"]), current.membership_id)
    return [
        MembershipCorrected(
            membership_id=current.membership_id,
            member=state.member,
            network=state.network,
            since=values["since"],
            until=values["until"],
            notes=check_texts("notes", values["notes"]),
            corrected_fields=changed,
        )
    ]
