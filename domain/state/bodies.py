"""A body of a network, folded from its stream."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import BodyRegistered, DomainEvent
from domain.facts import Facts
from domain.streams import body_stream


@dataclass(frozen=True)
class Body:
    network: str
    body: str
    name: str


def evolve(state: Body | None, event: DomainEvent) -> Body | None:
    match event:
        case BodyRegistered():
            return Body(event.network, event.body, event.name)
    return state


def body(facts: Facts, network: str, key: str) -> Body | None:
    state: Body | None = None
    for event in facts.events(body_stream(network, key)):
        state = evolve(state, event)
    return state
