"""The periods of one member in one network, folded from their stream."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.errors import NotFound
from domain.events import (
    DomainEvent,
    MembershipCorrected,
    MembershipEnded,
    MembershipRetracted,
    MembershipStarted,
)
from domain.facts import Facts
from domain.streams import membership_stream
from events.dates import PartialDate, Period


@dataclass(frozen=True)
class Membership:
    membership_id: str
    since: PartialDate
    until: PartialDate | None
    notes: list[str]
    retracted: bool = False

    @property
    def period(self) -> Period:
        return Period(self.since, self.until)


@dataclass(frozen=True)
class Memberships:
    """All periods of one member in one network, in the order they were recorded."""

    member: str
    network: str
    periods: tuple[Membership, ...] = ()

    @property
    def live(self) -> tuple[Membership, ...]:
        """The periods the record holds (those not retracted)."""
        return tuple(period for period in self.periods if not period.retracted)

    def find(self, membership_id: str) -> Membership:
        for period in self.periods:
            if period.membership_id == membership_id:
                if period.retracted:
                    raise NotFound(f"membership {membership_id!r} was retracted")
                return period
        raise NotFound(f"{self.member} has no membership {membership_id!r} in {self.network}")

    def replaced(self, new: Membership) -> Memberships:
        periods = tuple(new if p.membership_id == new.membership_id else p for p in self.periods)
        return dataclasses.replace(self, periods=periods)


def evolve(state: Memberships, event: DomainEvent) -> Memberships:
    match event:
        case MembershipStarted():
            started = Membership(event.membership_id, event.since, None, list(event.notes))
            return dataclasses.replace(state, periods=(*state.periods, started))
        case MembershipEnded():
            ended = dataclasses.replace(state.find(event.membership_id), until=event.until)
            return state.replaced(ended)
        case MembershipCorrected():
            fixed = Membership(event.membership_id, event.since, event.until, list(event.notes))
            return state.replaced(fixed)
        case MembershipRetracted():
            withdrawn = dataclasses.replace(state.find(event.membership_id), retracted=True)
            return state.replaced(withdrawn)
    return state


def memberships(facts: Facts, member: str, network: str) -> Memberships:
    state = Memberships(member, network)
    for event in facts.events(membership_stream(member, network)):
        state = evolve(state, event)
    return state
