"""Roles: a position a member holds in a network or one of its bodies, within a membership.

One stream per holder and network. A role is refused when every recorded membership of
the holder certainly excludes it; when the dates cannot tell, the role is kept.
"""

from __future__ import annotations

import dataclasses

from domain.commands import AssignRole, CorrectRole, EndRole, RetractRole
from domain.errors import Conflict, ValidationError
from domain.events import DomainEvent, RoleAssigned, RoleCorrected, RoleEnded, RoleRetracted
from domain.facts import Facts, Plan
from domain.ids import holder_and_network, role_id
from domain.rules import bodies, partners
from domain.rules.checks import (
    check_key,
    check_order,
    check_reason,
    check_text,
    check_texts,
    corrected,
    could_hold_on,
    describe,
    optional_text,
)
from domain.rules.declare import Returns, rule
from domain.rules.memberships import held
from domain.state.memberships import memberships
from domain.state.roles import Role, Roles, certainly_outside, roles
from domain.streams import body_stream, membership_stream, partner_stream, role_stream
from domain.vocabulary import ObjectKind

FIELDS = ("title", "body", "holder_title", "since", "until", "held_as_of", "notes")
OPTIONAL = ("body", "holder_title", "until", "held_as_of", "notes")
ROLE = Returns.field(ObjectKind.ROLE, "role_id")


def check_role(facts: Facts, state: Roles, role: Role, *, body_named: bool = True) -> None:
    """Dates in order, the body exists, a membership may hold it, no certain overlap.

    A correction that leaves the body as it was need not find it again: it was checked when
    the role was assigned, and the correction's plan reads a body only when it names one.
    """
    title = role.named(state.network)
    check_order(f"the role {title}", role.since, role.until)
    if role.held_as_of is not None and not could_hold_on(role.period, role.held_as_of):
        raise ValidationError(
            f"the role {title} {describe(role.period)} cannot have held as of {role.held_as_of}"
        )
    if role.body is not None and body_named:
        bodies.require(facts, state.network, role.body)
    _check_membership(facts, state, role)
    for other in state.live:
        same = (other.title, other.body) == (role.title, role.body)
        if same and other.role_id != role.role_id and other.period.overlaps(role.period) is True:
            raise Conflict(
                f"{state.holder} already holds {title} {describe(other.period)}"
                f" ({other.role_id}); a role {describe(role.period)} would overlap it"
            )


def _check_membership(facts: Facts, state: Roles, role: Role) -> None:
    periods = memberships(facts, state.holder, state.network).live
    if not periods:
        raise Conflict(
            f"{state.holder} is not a member of {state.network}; record the membership"
            " before a role in it"
        )
    if all(certainly_outside(role, membership) for membership in periods):
        raise Conflict(
            f"{state.holder} was a member of {state.network} only {held(periods)};"
            f" the role {role.named(state.network)} {describe(role.period)} lies outside it"
        )


def _plan(holder: str, network: str, body: str | None) -> Plan:
    reads = [membership_stream(holder, network), partner_stream(holder)]
    if body is not None:
        reads.append(body_stream(network, body))
    return Plan(role_stream(holder, network), tuple(reads))


def plan_assign(command: AssignRole) -> Plan:
    return _plan(command.holder, command.network, command.body)


@rule(AssignRole, reads=plan_assign, returns=ROLE)
def assign(facts: Facts, command: AssignRole) -> list[DomainEvent]:
    holder, network = check_key("holder", command.holder), check_key("network", command.network)
    partners.require(facts, holder)
    state = roles(facts, holder, network)
    role = Role(
        role_id=role_id(holder, network, len(state.roles) + 1),
        title=check_text("title", command.title),
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
            position=role.title,
            holder_title=role.holder_title,
            since=role.since,
            held_as_of=role.held_as_of,
            notes=role.notes,
        )
    ]


def plan_end(command: EndRole | RetractRole) -> Plan:
    holder, network = holder_and_network(command.role_id)
    return Plan(role_stream(holder, network), (membership_stream(holder, network),))


def _roles(facts: Facts, role: str) -> Roles:
    return roles(facts, *holder_and_network(role))


@rule(EndRole, reads=plan_end, returns=ROLE)
def end(facts: Facts, command: EndRole) -> list[DomainEvent]:
    state = _roles(facts, command.role_id)
    role = state.find(command.role_id)
    if role.until is not None:
        raise Conflict(f"role {role.role_id} already ended ({role.until})")
    check_order(f"the role {role.named(state.network)}", role.since, command.until)
    if role.held_as_of is not None and command.until.before(role.held_as_of) is True:
        raise ValidationError(
            f"role {role.role_id} held as of {role.held_as_of}; it cannot end in {command.until}"
        )
    _check_membership(facts, state, dataclasses.replace(role, until=command.until))
    return [
        RoleEnded(
            role_id=role.role_id,
            holder=state.holder,
            network=state.network,
            body=role.body,
            position=role.title,
            until=command.until,
        )
    ]


def plan_correct(command: CorrectRole) -> Plan:
    holder, network = holder_and_network(command.role_id)
    return _plan(holder, network, command.body)


@rule(CorrectRole, reads=plan_correct, returns=ROLE)
def correct(facts: Facts, command: CorrectRole) -> list[DomainEvent]:
    state = _roles(facts, command.role_id)
    current = state.find(command.role_id)
    values, changed = corrected(current, command, FIELDS, OPTIONAL)
    values["title"] = check_text("title", values["title"])
    values["holder_title"] = optional_text("holder title", values["holder_title"])
    values["notes"] = check_texts("notes", values["notes"])
    role = dataclasses.replace(current, **values)
    check_role(facts, state, role, body_named=command.body is not None)
    return [
        RoleCorrected(
            role_id=role.role_id,
            holder=state.holder,
            network=state.network,
            body=role.body,
            position=role.title,
            holder_title=role.holder_title,
            since=role.since,
            until=role.until,
            held_as_of=role.held_as_of,
            notes=role.notes,
            corrected_fields=["position" if name == "title" else name for name in changed],
        )
    ]


@rule(RetractRole, reads=plan_end, returns=ROLE.before())
def retract(facts: Facts, command: RetractRole) -> list[DomainEvent]:
    check_reason(command.reason)
    state = _roles(facts, command.role_id)
    role = state.find(command.role_id)
    return [RoleRetracted(role_id=role.role_id, holder=state.holder, network=state.network)]
