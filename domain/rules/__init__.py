"""The rules of the cooperation record: for each command, what it reads and what it decides.

`plan(command)` names the stream the command writes and the streams its rule reads;
`decide(facts, command)` is pure: given those streams' events, the events to append, or a
DomainError saying exactly what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain import commands as c
from domain.rules import activities, bodies, memberships, partners, programs, roles, sources
from domain.rules.streams import Facts, Plan, source_stream

C = TypeVar("C", bound=c.Command)


@dataclass(frozen=True)
class Rule(Generic[C]):
    plan: Callable[[C], Plan]
    decide: Callable[[Facts, C], list[object]]


RULES: dict[type[c.Command], Rule[Any]] = {
    c.RegisterSource: Rule(sources.plan_register, sources.register),
    c.RegisterPartner: Rule(partners.plan_register, partners.register),
    c.UpdatePartner: Rule(partners.plan_change, partners.update),
    c.CorrectPartner: Rule(partners.plan_change, partners.correct),
    c.StartMembership: Rule(memberships.plan_start, memberships.start),
    c.EndMembership: Rule(roles.plan_membership_change, roles.end_membership),
    c.CorrectMembership: Rule(roles.plan_membership_change, roles.correct_membership),
    c.RegisterBody: Rule(bodies.plan_register, bodies.register),
    c.RecordBodySize: Rule(bodies.plan_size, bodies.record_size),
    c.AssignRole: Rule(roles.plan_assign, roles.assign),
    c.EndRole: Rule(roles.plan_end, roles.end),
    c.CorrectRole: Rule(roles.plan_correct, roles.correct),
    c.LaunchProgram: Rule(programs.plan_launch, programs.launch),
    c.JoinProgram: Rule(programs.plan_join, programs.join),
    c.LeaveProgram: Rule(programs.plan_leave, programs.leave),
    c.ConcludeProgram: Rule(programs.plan_conclude, programs.conclude),
    c.CorrectProgram: Rule(programs.plan_correct, programs.correct),
    c.RecordActivity: Rule(activities.plan_record, activities.record),
    c.CorrectActivity: Rule(activities.plan_correct_activity, activities.correct_activity),
    c.AnnounceCommitment: Rule(activities.plan_announce, activities.announce),
    c.CorrectCommitment: Rule(activities.plan_correct_commitment, activities.correct_commitment),
}


def _rule(command: c.Command) -> Rule[Any]:
    try:
        return RULES[type(command)]
    except KeyError:
        raise TypeError(f"no rule decides {type(command).__name__}") from None


def _cites_itself(command: c.Command) -> bool:
    """A source's registration may cite the document being registered."""
    return isinstance(command, c.RegisterSource) and command.source.document == command.key


def plan(command: c.Command) -> Plan:
    """The command's target stream and what its rule reads, the cited source included."""
    own = _rule(command).plan(command)
    if _cites_itself(command):
        return own
    return Plan(own.target, (*own.reads, source_stream(command.source.document)))


def decide(facts: Facts, command: c.Command) -> list[object]:
    """The events the command adds to the record, or a DomainError."""
    if not _cites_itself(command):
        sources.check_reference(facts, command.source)
    return _rule(command).decide(facts, command)


__all__ = ["RULES", "Facts", "Plan", "decide", "plan"]
