"""An activity, and a commitment announced at one, each folded from its stream."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import (
    ActivityCorrected,
    ActivityRecorded,
    ActivityRetracted,
    CommitmentAnnounced,
    CommitmentCorrected,
    CommitmentRetracted,
    DomainEvent,
)
from domain.facts import Facts
from domain.streams import activity_stream, commitment_stream
from events.dates import PartialDate

ACTIVITY_FIELDS = (
    "name",
    "kind",
    "on",
    "mode",
    "field",
    "organiser",
    "participants",
    "representatives",
    "network",
    "body",
    "program",
    "description",
)
COMMITMENT_FIELDS = (
    "by",
    "statement",
    "by_title",
    "on",
    "activity",
    "focus_areas",
    "collaborators",
)


@dataclass(frozen=True)
class Activity:
    key: str
    name: str
    kind: str
    on: PartialDate
    mode: str | None
    field: str | None
    organiser: str | None
    participants: list[str]
    representatives: list[str]
    network: str | None
    body: str | None
    program: str | None
    description: str | None


def evolve(state: Activity | None, event: DomainEvent) -> Activity | None:
    match event:
        case ActivityRecorded() | ActivityCorrected():
            values = {name: getattr(event, name) for name in ACTIVITY_FIELDS}
            return Activity(key=event.key, **values)
        case ActivityRetracted():
            return None
    return state


def activity(facts: Facts, key: str) -> Activity | None:
    state: Activity | None = None
    for event in facts.events(activity_stream(key)):
        state = evolve(state, event)
    return state


@dataclass(frozen=True)
class Commitment:
    key: str
    by: str
    statement: str
    by_title: str | None
    on: PartialDate
    activity: str | None
    focus_areas: list[str]
    collaborators: list[str]


def evolve_commitment(state: Commitment | None, event: DomainEvent) -> Commitment | None:
    match event:
        case CommitmentAnnounced() | CommitmentCorrected():
            values = {name: getattr(event, name) for name in COMMITMENT_FIELDS}
            return Commitment(key=event.key, **values)
        case CommitmentRetracted():
            return None
    return state


def commitment(facts: Facts, key: str) -> Commitment | None:
    state: Commitment | None = None
    for event in facts.events(commitment_stream(key)):
        state = evolve_commitment(state, event)
    return state
