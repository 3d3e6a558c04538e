"""The roles one holder holds in one network, folded from their stream."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.errors import NotFound
from domain.events import DomainEvent, RoleAssigned, RoleCorrected, RoleEnded, RoleRetracted
from domain.facts import Facts
from domain.state.memberships import Membership
from domain.streams import role_stream
from events.dates import PartialDate, Period


@dataclass(frozen=True)
class Role:
    role_id: str
    title: str  # the position held: "vice chair" (events name it `position`)
    body: str | None
    holder_title: str | None
    since: PartialDate
    until: PartialDate | None
    held_as_of: PartialDate | None
    notes: list[str]
    retracted: bool = False

    @property
    def period(self) -> Period:
        return Period(self.since, self.until)

    def named(self, network: str) -> str:
        """'vice chair of c40', 'member of c40 steering-committee'."""
        return f"{self.title} of {network}" + (f" {self.body}" if self.body else "")


@dataclass(frozen=True)
class Roles:
    holder: str
    network: str
    roles: tuple[Role, ...] = ()

    @property
    def live(self) -> tuple[Role, ...]:
        """The roles the record holds (those not retracted)."""
        return tuple(role for role in self.roles if not role.retracted)

    def find(self, role_id: str) -> Role:
        for role in self.roles:
            if role.role_id == role_id:
                if role.retracted:
                    raise NotFound(f"role {role_id!r} was retracted")
                return role
        raise NotFound(f"{self.holder} has no role {role_id!r} in {self.network}")

    def replaced(self, new: Role) -> Roles:
        roles = tuple(new if r.role_id == new.role_id else r for r in self.roles)
        return dataclasses.replace(self, roles=roles)


def evolve(state: Roles, event: DomainEvent) -> Roles:
    match event:
        case RoleAssigned() | RoleCorrected():
            until = event.until if isinstance(event, RoleCorrected) else None
            role = Role(
                event.role_id,
                event.position,
                event.body,
                event.holder_title,
                event.since,
                until,
                event.held_as_of,
                list(event.notes),
            )
            if isinstance(event, RoleAssigned):
                return dataclasses.replace(state, roles=(*state.roles, role))
            return state.replaced(role)
        case RoleEnded():
            ended = dataclasses.replace(state.find(event.role_id), until=event.until)
            return state.replaced(ended)
        case RoleRetracted():
            return state.replaced(dataclasses.replace(state.find(event.role_id), retracted=True))
    return state


def roles(facts: Facts, holder: str, network: str) -> Roles:
    state = Roles(holder, network)
    for event in facts.events(role_stream(holder, network)):
        state = evolve(state, event)
    return state


def certainly_outside(role: Role, membership: Membership) -> bool:
    """Do the dates show the role cannot lie within this membership?"""
    since, until = membership.since, membership.until
    role_days = [role.since, *(d for d in (role.until, role.held_as_of) if d is not None)]
    return any(day.before(since) is True for day in role_days) or (
        until is not None and any(until.before(day) is True for day in role_days)
    )
