"""A program and the partners taking part in it, folded from its stream."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from domain.events import (
    DomainEvent,
    PartnerJoinedProgram,
    PartnerLeftProgram,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
    ProgramRetracted,
)
from domain.facts import Facts
from domain.streams import program_stream
from events.dates import PartialDate, Period


@dataclass(frozen=True)
class Participation:
    participation_id: str
    partner: str
    since: PartialDate
    until: PartialDate | None = None

    @property
    def period(self) -> Period:
        return Period(self.since, self.until)


@dataclass(frozen=True)
class Program:
    key: str
    name: str
    field: str
    kind: str
    topics: list[str]
    lead: str
    network: str | None
    since: PartialDate
    until: PartialDate | None
    description: str | None
    participations: tuple[Participation, ...] = ()

    def of(self, partner: str) -> list[Participation]:
        return [p for p in self.participations if p.partner == partner]


def evolve(state: Program | None, event: DomainEvent) -> Program | None:
    match event:
        case ProgramLaunched():
            return Program(**_details(event), until=None)
        case ProgramCorrected() if state is not None:
            return dataclasses.replace(state, **_details(event), until=event.until)
        case ProgramConcluded() if state is not None:
            return dataclasses.replace(state, until=event.until)
        case PartnerJoinedProgram() if state is not None:
            joined = Participation(event.participation_id, event.partner, event.since)
            return dataclasses.replace(state, participations=(*state.participations, joined))
        case PartnerLeftProgram() if state is not None:
            left = tuple(
                dataclasses.replace(p, until=event.until)
                if p.participation_id == event.participation_id
                else p
                for p in state.participations
            )
            return dataclasses.replace(state, participations=left)
        case ProgramRetracted():
            return None
    return state


def _details(event: ProgramLaunched | ProgramCorrected) -> dict[str, Any]:
    names = ("key", "name", "field", "kind", "lead", "network", "since", "description")
    return {name: getattr(event, name) for name in names} | {"topics": list(event.topics)}


def program(facts: Facts, key: str) -> Program | None:
    state: Program | None = None
    for event in facts.events(program_stream(key)):
        state = evolve(state, event)
    return state
