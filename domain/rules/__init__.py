"""The rules of the cooperation record: for each command, what it reads and what it decides.

Each rule module declares its commands with `@rule` (see `domain.rules.declare`):
`plan(command)` names the stream the command writes and the streams its rule reads;
`decide(facts, command)` is pure: given those streams' events, the events to append, or a
DomainError saying exactly what is wrong.
"""

from __future__ import annotations

from domain.commands import Command, RegisterSource
from domain.events import DomainEvent
from domain.facts import Facts, Plan

# Importing the rule modules declares their rules.
from domain.rules import activities, bodies, memberships, partners, programs, roles, sources
from domain.rules.declare import Returns, Rule, declared, rule_for
from domain.streams import source_stream


def _cites_itself(command: Command) -> bool:
    """A source's registration may cite the document being registered."""
    return isinstance(command, RegisterSource) and command.source.document == command.key


def plan(command: Command) -> Plan:
    """The command's target stream and what its rule reads, the cited source included."""
    own = rule_for(type(command)).plan(command)
    if _cites_itself(command):
        return own
    return Plan(own.target, (*own.reads, source_stream(command.source.document)))


def decide(facts: Facts, command: Command) -> list[DomainEvent]:
    """The events the command adds to the record, or a DomainError."""
    if not _cites_itself(command):
        sources.check_reference(facts, command.source)
    decided: list[DomainEvent] = rule_for(type(command)).decide(facts, command)
    return decided


__all__ = [
    "Facts",
    "Plan",
    "Returns",
    "Rule",
    "activities",
    "bodies",
    "decide",
    "declared",
    "memberships",
    "partners",
    "plan",
    "programs",
    "roles",
    "rule_for",
    "sources",
]
