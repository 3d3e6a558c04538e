"""Memberships: a member in a network over periods. One stream per member and network.

A rule refuses what the dates show to be certainly impossible (an end before the start,
two periods that certainly share a day) and keeps what the precision cannot decide.
Ending or correcting a membership is held to the roles' rule too: no role recorded in it
may fall certainly outside it by the change.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.commands import CorrectMembership, EndMembership, RetractMembership, StartMembership
from domain.errors import Conflict, ValidationError
from domain.events import (
    DomainEvent,
    MembershipCorrected,
    MembershipEnded,
    MembershipRetracted,
    MembershipStarted,
)
from domain.facts import Facts, Plan
from domain.ids import member_and_network, membership_id
from domain.rules import partners
from domain.rules.checks import (
    check_key,
    check_order,
    check_reason,
    check_texts,
    corrected,
    date_text,
    describe,
)
from domain.rules.declare import Returns, rule
from domain.state import memberships as state
from domain.state.memberships import Membership, Memberships
from domain.state.roles import certainly_outside, roles
from domain.streams import membership_stream, partner_stream, role_stream
from domain.vocabulary import ObjectKind
from events.dates import Period

MEMBERSHIP = Returns.field(ObjectKind.MEMBERSHIP, "membership_id")


def check_no_overlap(state: Memberships, period: Period, own_id: str | None = None) -> None:
    for other in state.live:
        if other.membership_id != own_id and other.period.overlaps(period) is True:
            wanted = f"from {date_text(period.since)}" if period.until is None else describe(period)
            raise Conflict(
                f"{state.member} is already a member of {state.network} {describe(other.period)};"
                f" a membership {wanted} would overlap it"
            )


def held(periods: Sequence[Membership]) -> str:
    """'from 2006 with no end, from 1999 to 2001': the periods, as a refusal names them."""
    return ", ".join(describe(m.period) for m in periods)


def plan_start(command: StartMembership) -> Plan:
    return Plan(
        membership_stream(command.member, command.network),
        (partner_stream(command.member), partner_stream(command.network)),
    )


@rule(StartMembership, reads=plan_start, returns=MEMBERSHIP)
def start(facts: Facts, command: StartMembership) -> list[DomainEvent]:
    member, network = check_key("member", command.member), check_key("network", command.network)
    if member == network:
        raise ValidationError(f"{member} cannot be a member of itself")
    partners.require(facts, member)
    partners.require_network(facts, network)
    current = state.memberships(facts, member, network)
    check_no_overlap(current, Period(command.since))
    return [
        MembershipStarted(
            membership_id=membership_id(member, network, len(current.periods) + 1),
            member=member,
            network=network,
            since=command.since,
            notes=check_texts("notes", command.notes),
        )
    ]


def plan_change(command: EndMembership | CorrectMembership | RetractMembership) -> Plan:
    """A change to a membership also reads the roles held within it."""
    member, network = member_and_network(command.membership_id)
    return Plan(membership_stream(member, network), (role_stream(member, network),))


def _state(facts: Facts, membership: str) -> Memberships:
    return state.memberships(facts, *member_and_network(membership))


@rule(EndMembership, reads=plan_change, returns=MEMBERSHIP)
def end(facts: Facts, command: EndMembership) -> list[DomainEvent]:
    before = _state(facts, command.membership_id)
    current = before.find(command.membership_id)
    if current.until is not None:
        raise Conflict(f"membership {current.membership_id} already ended ({current.until})")
    check_order(f"membership {current.membership_id}", current.since, command.until)
    decided: list[DomainEvent] = [
        MembershipEnded(
            membership_id=current.membership_id,
            member=before.member,
            network=before.network,
            until=command.until,
        )
    ]
    _check_roles_still_fit(facts, before, decided)
    return decided


@rule(CorrectMembership, reads=plan_change, returns=MEMBERSHIP)
def correct(facts: Facts, command: CorrectMembership) -> list[DomainEvent]:
    before = _state(facts, command.membership_id)
    current = before.find(command.membership_id)
    values, changed = corrected(current, command, ("since", "until", "notes"), ("until", "notes"))
    check_order(f"membership {current.membership_id}", values["since"], values["until"])
    check_no_overlap(before, Period(values["since"], values["until"]), current.membership_id)
    decided: list[DomainEvent] = [
        MembershipCorrected(
            membership_id=current.membership_id,
            member=before.member,
            network=before.network,
            since=values["since"],
            until=values["until"],
            notes=check_texts("notes", values["notes"]),
            corrected_fields=changed,
        )
    ]
    _check_roles_still_fit(facts, before, decided)
    return decided


@rule(RetractMembership, reads=plan_change, returns=MEMBERSHIP.before())
def retract(facts: Facts, command: RetractMembership) -> list[DomainEvent]:
    check_reason(command.reason)
    before = _state(facts, command.membership_id)
    current = before.find(command.membership_id)
    decided: list[DomainEvent] = [
        MembershipRetracted(
            membership_id=current.membership_id, member=before.member, network=before.network
        )
    ]
    _check_roles_still_fit(facts, before, decided)
    return decided


def _check_roles_still_fit(
    facts: Facts, before: Memberships, decided: Sequence[DomainEvent]
) -> None:
    """No role recorded in the network may fall outside every membership by this change.

    Only a role the change moves outside is refused: one the record already placed outside
    (imported from before this rule) does not block an unrelated correction.
    """
    after = before
    for event in decided:
        after = state.evolve(after, event)
    member, network = before.member, before.network
    for role in roles(facts, member, network).live:
        fits_after = not all(certainly_outside(role, m) for m in after.live)
        if fits_after or all(certainly_outside(role, m) for m in before.live):
            continue
        if not after.live:
            raise Conflict(
                f"the role {role.named(network)} {describe(role.period)} ({role.role_id}) lies"
                f" within {member}'s membership of {network}: retract or correct the role first"
            )
        raise Conflict(
            f"{member}'s membership of {network} would then be only {held(after.live)},"
            f" and the role {role.named(network)} {describe(role.period)} ({role.role_id})"
            " would lie outside it: end or correct the role first"
        )
