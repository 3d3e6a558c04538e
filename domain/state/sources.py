"""A source document, folded from its stream."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import DomainEvent, SourceRegistered
from domain.facts import Facts
from domain.streams import source_stream


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    sections: tuple[str, ...]


def evolve(state: Source | None, event: DomainEvent) -> Source | None:
    match event:
        case SourceRegistered():
            return Source(event.key, event.title, tuple(event.sections))
    return state


def source(facts: Facts, key: str) -> Source | None:
    state: Source | None = None
    for event in facts.events(source_stream(key)):
        state = evolve(state, event)
    return state
