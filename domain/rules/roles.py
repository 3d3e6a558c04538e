"""Roles: a position a member holds in a network or one of its bodies, within a membership.

One stream per holder and network. A role is refused when every recorded membership of
the holder certainly excludes it; when the dates cannot tell, the role is kept. Ending or
correcting a membership is held to the same rule for the roles already recorded in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.commands import AssignRole, CorrectMembership, CorrectRole, EndMembership, EndRole
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import RoleAssigned, RoleCorrected, RoleEnded
from domain.rules import bodies, memberships, partners
from domain.rules.checks import (
    check_key,
    check_order,
    check_text,
    check_texts,
    corrected,
    could_hold_on,
    describe,
    optional_text,
    replace,
)
from domain.rules.memberships import Membership
from domain.rules.streams import (
    Facts,
    Plan,
    body_stream,
    membership_stream,
    partner_stream,
    role_stream,
)
from events.dates import PartialDate, Period

FIELDS = ("position", "body", "holder_title", "since", "until", "held_as_of", "notes")
OPTIONAL = ("body", "holder_title", "until", "held_as_of", "notes")


@dataclass(frozen=True)
class Role:
    role_id: str
    position: str
    body: str | None
    holder_title: str | None
    since: PartialDate
    until: PartialDate | None
    held_as_of: PartialDate | None
    notes: list[str]

    @property
    def period(self) -> Period:
        return Period(self.since, self.until)

    def title(self, network: str) -> str:
        return f"{self.position} of {network}" + (f" {self.body}" if self.body else "")


@dataclass(frozen=True)
class Roles:
    holder: str
    network: str
    roles: tuple[Role, ...] = ()

    def find(self, role_id: str) -> Role:
        for role in self.roles:
            if role.role_id == role_id:
                return role
        raise NotFound(f"{self.holder} has no role {role_id!r} in {self.network}")

    def replaced(self, new: Role) -> Roles:
        return replace(
            self, roles=tuple(new if r.role_id == new.role_id else r for r in self.roles)
        )


def evolve(state: Roles, event: object) -> Roles:
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
                return replace(state, roles=(*state.roles, role))
            return state.replaced(role)
        case RoleEnded():
            return state.replaced(replace(state.find(event.role_id), until=event.until))
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


def check_role(facts: Facts, state: Roles, role: Role, *, body_named: bool = True) -> None:
    """Dates in order, the body exists, a membership may hold it, no certain overlap.

    A correction that leaves the body as it was need not find it again: it was checked when
    the role was assigned, and the correction's plan reads a body only when it names one.
    """
    title = role.title(state.network)
    check_order(f"the role {title}", role.since, role.until)
    if role.held_as_of is not None and not could_hold_on(role.period, role.held_as_of):
        raise ValidationError(
            f"the role {title} {describe(role.period)} cannot have held as of {role.held_as_of}"
        )
    if role.body is not None and body_named:
        bodies.require(facts, state.network, role.body)
    _check_membership(facts, state, role)
    for other in state.roles:
        same = (other.position, other.body) == (role.position, role.body)
        if same and other.role_id != role.role_id and other.period.overlaps(role.period) is True:
            raise Conflict(
                f"{state.holder} already holds {title} {describe(other.period)}"
                f" ({other.role_id}); a role {describe(role.period)} would overlap it"
            )


def _check_membership(facts: Facts, state: Roles, role: Role) -> None:
    periods = memberships.memberships(facts, state.holder, state.network).periods
    if not periods:
        raise Conflict(
            f"{state.holder} is not a member of {state.network}; record the membership"
            " before a role in it"
        )
    if all(certainly_outside(role, membership) for membership in periods):
        raise Conflict(
            f"{state.holder} was a member of {state.network} only {_held(periods)};"
            f" the role {role.title(state.network)} {describe(role.period)} lies outside it"
        )


def _held(periods: Sequence[Membership]) -> str:
    return ", ".join(describe(m.period) for m in periods)


def plan_membership_change(command: EndMembership | CorrectMembership) -> Plan:
    """Ending or correcting a membership also reads the roles held within it."""
    plan = memberships.plan_change(command)
    return Plan(plan.target, (*plan.reads, role_stream(command.member, command.network)))


def end_membership(facts: Facts, command: EndMembership) -> list[object]:
    decided = memberships.end(facts, command)
    _check_roles_still_fit(facts, command.member, command.network, decided)
    return decided


def correct_membership(facts: Facts, command: CorrectMembership) -> list[object]:
    decided = memberships.correct(facts, command)
    _check_roles_still_fit(facts, command.member, command.network, decided)
    return decided


def _check_roles_still_fit(
    facts: Facts, member: str, network: str, decided: Sequence[object]
) -> None:
    """No role recorded in the network may fall outside every membership by this change.

    Only a role the change moves outside is refused: one the record already placed outside
    (imported from before this rule) does not block an unrelated correction.
    """
    before = memberships.memberships(facts, member, network)
    after = before
    for event in decided:
        after = memberships.evolve(after, event)
    for role in roles(facts, member, network).roles:
        fits_after = not all(certainly_outside(role, m) for m in after.periods)
        if fits_after or all(certainly_outside(role, m) for m in before.periods):
            continue
        raise Conflict(
            f"{member}'s membership of {network} would then be only {_held(after.periods)},"
            f" and the role {role.title(network)} {describe(role.period)} ({role.role_id})"
            " would lie outside it: end or correct the role first"
        )


def _plan(holder: str, network: str, body: str | None) -> Plan:
    reads = [membership_stream(holder, network), partner_stream(holder)]
    if body is not None:
        reads.append(body_stream(network, body))
    return Plan(role_stream(holder, network), tuple(reads))


def plan_assign(command: AssignRole) -> Plan:
    return _plan(command.holder, command.network, command.body)


def assign(facts: Facts, command: AssignRole) -> list[object]:
    holder, network = check_key("holder", command.holder), check_key("network", command.network)
    partners.require(facts, holder)
    state = roles(facts, holder, network)
    role = Role(
        role_id=f"{holder}@{network}#role-{len(state.roles) + 1}",
        position=check_text("position", command.position),
        body=None if command.body is None else check_key("body", command.body),
        holder_title=optional_text("holder title", command.holder_title),
        since=command.since,
        until=None,
        held_as_of=command.held_as_of,
        notes=check_texts("notes", command.notes),
    )
    check_role(facts, state, role)
    return [
        RoleAssigned(
            role_id=role.role_id,
            holder=holder,
            network=network,
            body=role.body,
            position=role.position,
            holder_title=role.holder_title,
            since=role.since,
            held_as_of=role.held_as_of,
            notes=role.notes,
        )
    ]


def plan_end(command: EndRole) -> Plan:
    return Plan(
        role_stream(command.holder, command.network),
        (membership_stream(command.holder, command.network),),
    )


def _open_role(state: Roles, command: EndRole) -> Role:
    if command.role_id is not None:
        return state.find(command.role_id)
    matching = [
        role
        for role in state.roles
        if role.until is None
        and command.position in (None, role.position)
        and command.body in (None, role.body)
    ]
    if not matching:
        raise NotFound(f"{state.holder} holds no open role like that in {state.network}")
    if len(matching) > 1:
        ids = ", ".join(role.role_id for role in matching)
        raise ValidationError(f"{state.holder} holds several such roles ({ids}); name the role_id")
    return matching[0]


def end(facts: Facts, command: EndRole) -> list[object]:
    state = roles(facts, command.holder, command.network)
    role = _open_role(state, command)
    if role.until is not None:
        raise Conflict(f"role {role.role_id} already ended ({role.until})")
    check_order(f"the role {role.title(state.network)}", role.since, command.until)
    if role.held_as_of is not None and command.until.before(role.held_as_of) is True:
        raise ValidationError(
            f"role {role.role_id} held as of {role.held_as_of}; it cannot end in {command.until}"
        )
    _check_membership(facts, state, replace(role, until=command.until))
    return [
        RoleEnded(
            role_id=role.role_id,
            holder=state.holder,
            network=state.network,
            body=role.body,
            position=role.position,
            until=command.until,
        )
    ]


def plan_correct(command: CorrectRole) -> Plan:
    return _plan(command.holder, command.network, command.body)


def correct(facts: Facts, command: CorrectRole) -> list[object]:
    state = roles(facts, command.holder, command.network)
    current = state.find(command.role_id)
    values, changed = corrected(current, command, FIELDS, OPTIONAL)
    values["position"] = check_text("position", values["position"])
    values["holder_title"] = optional_text("holder title", values["holder_title"])
    values["notes"] = check_texts("notes", values["notes"])
    role = replace(current, **values)
    check_role(facts, state, role, body_named=command.body is not None)
    return [
        RoleCorrected(
            role_id=role.role_id,
            holder=state.holder,
            network=state.network,
            body=role.body,
            position=role.position,
            holder_title=role.holder_title,
            since=role.since,
            until=role.until,
            held_as_of=role.held_as_of,
            notes=role.notes,
            corrected_fields=changed,
        )
    ]
