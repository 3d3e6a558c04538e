"""Partners: cities, networks, international organisations. Registered once, then updated."""

from __future__ import annotations

from collections.abc import Collection

from domain.commands import CorrectPartner, RegisterPartner, RetractPartner, UpdatePartner
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    DomainEvent,
    PartnerCorrected,
    PartnerRegistered,
    PartnerRetracted,
    PartnerUpdated,
)
from domain.facts import Facts, Plan
from domain.rules.checks import (
    check_choice,
    check_key,
    check_reason,
    check_text,
    corrected,
    optional_text,
)
from domain.rules.declare import Returns, rule
from domain.state.partners import Partner, partner
from domain.streams import partner_stream
from domain.vocabulary import NETWORK_KINDS, ObjectKind, PartnerKind

DETAILS = ("name", "kind", "country", "region", "description")
OPTIONAL = ("country", "region", "description")
PARTNER = Returns.field(ObjectKind.PARTNER, "key")


def require(facts: Facts, key: str, kinds: Collection[str] | None = None) -> Partner:
    """The registered partner `key`; NotFound if it is not, ValidationError if of another kind."""
    found = partner(facts, key)
    if found is None:
        raise NotFound(f"partner {key!r} is not registered")
    if kinds is not None and found.kind not in kinds:
        raise ValidationError(f"partner {key!r} is a {found.kind}, not a {' or '.join(kinds)}")
    return found


def require_network(facts: Facts, key: str) -> Partner:
    return require(facts, key, NETWORK_KINDS)


def plan_register(command: RegisterPartner) -> Plan:
    return Plan(partner_stream(command.key))


@rule(RegisterPartner, reads=plan_register, returns=PARTNER)
def register(facts: Facts, command: RegisterPartner) -> list[DomainEvent]:
    key = check_key("partner", command.key)
    existing = partner(facts, key)
    if existing is not None:
        raise Conflict(f"partner {key!r} is already registered (as {existing.name!r})")
    return [
        PartnerRegistered(
            key=key,
            name=check_text("name", command.name),
            kind=check_choice("kind", command.kind, PartnerKind),
            country=optional_text("country", command.country),
            region=optional_text("region", command.region),
            description=optional_text("description", command.description),
        )
    ]


def plan_change(command: UpdatePartner | CorrectPartner | RetractPartner) -> Plan:
    return Plan(partner_stream(command.key))


def _changed_details(
    facts: Facts, command: UpdatePartner | CorrectPartner
) -> tuple[dict[str, str | None], list[str]]:
    current = require(facts, command.key)
    values, changed = corrected(current, command, DETAILS, OPTIONAL)
    values["name"] = check_text("name", values["name"] or "")
    check_choice("kind", values["kind"] or "", PartnerKind)
    for name in OPTIONAL:
        values[name] = optional_text(name, values[name])
    return values, changed


@rule(UpdatePartner, reads=plan_change, returns=PARTNER)
def update(facts: Facts, command: UpdatePartner) -> list[DomainEvent]:
    values, changed = _changed_details(facts, command)
    return [
        PartnerUpdated(
            key=command.key,
            name=values["name"] or "",
            kind=values["kind"] or "",
            country=values["country"],
            region=values["region"],
            description=values["description"],
            effective=command.effective,
            changed_fields=changed,
        )
    ]


@rule(CorrectPartner, reads=plan_change, returns=PARTNER)
def correct(facts: Facts, command: CorrectPartner) -> list[DomainEvent]:
    values, changed = _changed_details(facts, command)
    return [
        PartnerCorrected(
            key=command.key,
            name=values["name"] or "",
            kind=values["kind"] or "",
            country=values["country"],
            region=values["region"],
            description=values["description"],
            corrected_fields=changed,
        )
    ]


def _partner_key(command: RetractPartner) -> tuple[ObjectKind, str]:
    return ObjectKind.PARTNER, command.key


@rule(RetractPartner, reads=plan_change, returns=PARTNER.before(), unreferenced=_partner_key)
def retract(facts: Facts, command: RetractPartner) -> list[DomainEvent]:
    check_reason(command.reason)
    return [PartnerRetracted(key=require(facts, command.key).key)]
