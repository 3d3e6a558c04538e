"""Programs: a cooperation in a field, led by a partner, which other partners join and leave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.commands import (
    ConcludeProgram,
    CorrectProgram,
    JoinProgram,
    LaunchProgram,
    LeaveProgram,
    RetractProgram,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    DomainEvent,
    PartnerJoinedProgram,
    PartnerLeftProgram,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
    ProgramRetracted,
)
from domain.facts import Facts, Plan
from domain.ids import participation_id, program_and_partner
from domain.rules import partners
from domain.rules.checks import (
    check_choice,
    check_key,
    check_on_or_after,
    check_order,
    check_reason,
    check_text,
    check_texts,
    corrected,
    describe,
    optional_text,
)
from domain.rules.declare import Returns, rule
from domain.state.programs import Program, program
from domain.streams import partner_stream, program_stream
from domain.vocabulary import Field, ObjectKind, ProgramKind
from events.dates import PartialDate, Period

DETAILS = ("name", "field", "kind", "topics", "lead", "network", "since", "until", "description")
OPTIONAL = ("topics", "network", "until", "description")
PROGRAM = Returns.field(ObjectKind.PROGRAM, "key")
PARTICIPATION = Returns.field(ObjectKind.PARTICIPATION, "participation_id")


def require(facts: Facts, key: str) -> Program:
    found = program(facts, key)
    if found is None:
        raise NotFound(f"program {key!r} has not been launched")
    return found


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check a program's own values (used by launch and by correction)."""
    values = dict(values)
    values["name"] = check_text("name", values["name"])
    check_choice("field", values["field"], Field)
    check_choice("kind", values["kind"], ProgramKind)
    values["topics"] = check_texts("topics", values["topics"])
    values["description"] = optional_text("description", values["description"])
    if values["network"] is None and values["kind"] == ProgramKind.NETWORK_INITIATIVE:
        raise ValidationError("a network initiative must name its network")
    check_order("the program", values["since"], values.get("until"))
    return values


def _check_lead(facts: Facts, lead: str) -> None:
    partners.require(facts, lead)


def _check_network(facts: Facts, network: str | None) -> None:
    if network is not None:
        partners.require_network(facts, network)


def _partner_reads(*keys: str | None) -> tuple[str, ...]:
    return tuple(partner_stream(key) for key in keys if key is not None)


def plan_launch(command: LaunchProgram) -> Plan:
    keys = (command.lead, command.network, *command.partners)
    return Plan(program_stream(command.key), _partner_reads(*keys))


@rule(LaunchProgram, reads=plan_launch, returns=PROGRAM)
def launch(facts: Facts, command: LaunchProgram) -> list[DomainEvent]:
    key = check_key("program", command.key)
    if program(facts, key) is not None:
        raise Conflict(f"program {key!r} has already been launched")
    names = ("name", "field", "kind", "topics", "lead", "network", "since", "description")
    values = _check_values({name: getattr(command, name) for name in names})
    _check_lead(facts, values["lead"])
    _check_network(facts, values["network"])
    joining = _check_partners(facts, command.lead, command.partners)
    launched = ProgramLaunched(key=key, **values)
    return [launched, *(_joined(key, partner, 1, command.since) for partner in joining)]


def _check_partners(facts: Facts, lead: str, keys: Sequence[str]) -> list[str]:
    if len(set(keys)) != len(keys):
        raise ValidationError("partners lists the same partner twice")
    for key in keys:
        if key == lead:
            raise ValidationError(f"{key} leads the program; list only the other partners")
        partners.require(facts, key)
    return list(keys)


def _joined(program_key: str, partner: str, number: int, since: PartialDate) -> DomainEvent:
    return PartnerJoinedProgram(
        participation_id=participation_id(program_key, partner, number),
        program=program_key,
        partner=partner,
        since=since,
    )


def plan_join(command: JoinProgram) -> Plan:
    return Plan(program_stream(command.program), _partner_reads(command.partner))


@rule(JoinProgram, reads=plan_join, returns=PARTICIPATION)
def join(facts: Facts, command: JoinProgram) -> list[DomainEvent]:
    found = require(facts, command.program)
    _check_partners(facts, found.lead, [command.partner])
    check_on_or_after("joining", command.since, found.since, "the program's start")
    if found.until is not None and found.until.before(command.since) is True:
        raise Conflict(f"program {found.key} concluded ({found.until}) before {command.since}")
    wanted = Period(command.since)
    for earlier in found.of(command.partner):
        if earlier.period.overlaps(wanted) is True:
            raise Conflict(
                f"{command.partner} already takes part in program {found.key}"
                f" {describe(earlier.period)}; joining from {command.since} would overlap it"
            )
    number = len(found.of(command.partner)) + 1
    return [_joined(found.key, command.partner, number, command.since)]


def plan_leave(command: LeaveProgram) -> Plan:
    program, _partner = program_and_partner(command.participation_id)
    return Plan(program_stream(program))


@rule(LeaveProgram, reads=plan_leave, returns=PARTICIPATION)
def leave(facts: Facts, command: LeaveProgram) -> list[DomainEvent]:
    program, partner = program_and_partner(command.participation_id)
    found = require(facts, program)
    current = next(
        (p for p in found.participations if p.participation_id == command.participation_id), None
    )
    if current is None:
        raise NotFound(f"program {found.key} has no participation {command.participation_id!r}")
    if current.until is not None:
        raise Conflict(f"{partner} already left program {found.key} ({current.until})")
    check_order(f"{partner}'s part in program {found.key}", current.since, command.until)
    return [
        PartnerLeftProgram(
            participation_id=current.participation_id,
            program=found.key,
            partner=partner,
            until=command.until,
        )
    ]


def plan_own(command: ConcludeProgram | RetractProgram) -> Plan:
    return Plan(program_stream(command.key))


@rule(ConcludeProgram, reads=plan_own, returns=PROGRAM)
def conclude(facts: Facts, command: ConcludeProgram) -> list[DomainEvent]:
    found = require(facts, command.key)
    if found.until is not None:
        raise Conflict(f"program {found.key} already concluded ({found.until})")
    check_order(f"program {found.key}", found.since, command.until)
    for part in found.participations:
        if command.until.before(part.since) is True:
            raise Conflict(
                f"{part.partner} joined program {found.key} in {part.since},"
                f" after a conclusion in {command.until}"
            )
    return [ProgramConcluded(key=found.key, until=command.until)]


def plan_correct(command: CorrectProgram) -> Plan:
    return Plan(program_stream(command.key), _partner_reads(command.lead, command.network))


@rule(CorrectProgram, reads=plan_correct, returns=PROGRAM)
def correct(facts: Facts, command: CorrectProgram) -> list[DomainEvent]:
    current = require(facts, command.key)
    values, changed = corrected(current, command, DETAILS, OPTIONAL)
    values = _check_values(values)
    # Only a changed lead or network was read (and needs checking) again.
    if "lead" in changed:
        _check_lead(facts, values["lead"])
    if "network" in changed:
        _check_network(facts, values["network"])
    return [ProgramCorrected(key=current.key, **values, corrected_fields=changed)]


def _program_key(command: RetractProgram) -> tuple[ObjectKind, str]:
    return ObjectKind.PROGRAM, command.key


@rule(RetractProgram, reads=plan_own, returns=PROGRAM.before(), unreferenced=_program_key)
def retract(facts: Facts, command: RetractProgram) -> list[DomainEvent]:
    check_reason(command.reason)
    found = require(facts, command.key)
    return [ProgramRetracted(key=found.key)]
