"""A partner's details, folded from its stream."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import (
    DomainEvent,
    PartnerCorrected,
    PartnerRegistered,
    PartnerRetracted,
    PartnerUpdated,
)
from domain.facts import Facts
from domain.streams import partner_stream


@dataclass(frozen=True)
class Partner:
    key: str
    name: str
    kind: str
    country: str | None
    region: str | None
    description: str | None


def evolve(state: Partner | None, event: DomainEvent) -> Partner | None:
    match event:
        case PartnerRegistered() | PartnerUpdated() | PartnerCorrected():
            return Partner(
                event.key, event.name, event.kind, event.country, event.region, event.description
            )
        case PartnerRetracted():
            return None
    return state


def partner(facts: Facts, key: str) -> Partner | None:
    state: Partner | None = None
    for event in facts.events(partner_stream(key)):
        state = evolve(state, event)
    return state
