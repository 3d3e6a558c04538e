"""Activities (workshops, meetings, events) and the commitments announced at them."""

from __future__ import annotations

from typing import Any

from domain.commands import (
    AnnounceCommitment,
    CorrectActivity,
    CorrectCommitment,
    RecordActivity,
    RetractActivity,
    RetractCommitment,
)
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    ActivityCorrected,
    ActivityRecorded,
    ActivityRetracted,
    CommitmentAnnounced,
    CommitmentCorrected,
    CommitmentRetracted,
    DomainEvent,
)
from domain.facts import Facts, Plan
from domain.rules import bodies, partners, programs
from domain.rules.checks import (
    check_choice,
    check_key,
    check_reason,
    check_text,
    check_texts,
    corrected,
    optional_choice,
    optional_text,
)
from domain.rules.declare import Returns, rule
from domain.state.activities import ACTIVITY_FIELDS, COMMITMENT_FIELDS, activity, commitment
from domain.streams import (
    activity_stream,
    body_stream,
    commitment_stream,
    partner_stream,
    program_stream,
)
from domain.vocabulary import ActivityKind, Field, Mode, ObjectKind
from events.dates import PartialDate

ACTIVITY_OPTIONAL = tuple(f for f in ACTIVITY_FIELDS if f not in ("name", "kind", "on"))


ACTIVITY = Returns.field(ObjectKind.ACTIVITY, "key")
COMMITMENT = Returns.field(ObjectKind.COMMITMENT, "key")


def _reads(values: dict[str, Any]) -> tuple[str, ...]:
    keys = [values.get("organiser"), values.get("network"), *(values.get("participants") or [])]
    reads = [partner_stream(key) for key in keys if key is not None]
    if values.get("network") is not None and values.get("body") is not None:
        reads.append(body_stream(values["network"], values["body"]))
    if values.get("program") is not None:
        reads.append(program_stream(values["program"]))
    return tuple(reads)


def _given(command: RecordActivity | CorrectActivity) -> dict[str, Any]:
    return {name: getattr(command, name) for name in ACTIVITY_FIELDS}


def plan_record(command: RecordActivity) -> Plan:
    return Plan(activity_stream(command.key), _reads(_given(command)))


def plan_correct_activity(command: CorrectActivity) -> Plan:
    return Plan(activity_stream(command.key), _reads(_given(command)))


def _check_activity(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    values["name"] = check_text("name", values["name"])
    check_choice("kind", values["kind"], ActivityKind)
    optional_choice("mode", values["mode"], Mode)
    optional_choice("field", values["field"], Field)
    if len(set(values["participants"])) != len(values["participants"]):
        raise ValidationError("participants lists the same partner twice")
    values["representatives"] = check_texts("representatives", values["representatives"])
    values["description"] = optional_text("description", values["description"])
    if values["body"] is not None and values["network"] is None:
        raise ValidationError(f"body {values['body']!r} needs the network it belongs to")
    return values


def _check_references(facts: Facts, values: dict[str, Any], names: set[str]) -> None:
    """Check that what the activity names exists; only `names` were (re)read."""
    if "organiser" in names and values["organiser"] is not None:
        partners.require(facts, values["organiser"])
    if "participants" in names:
        for participant in values["participants"]:
            partners.require(facts, participant)
    if "network" in names and values["network"] is not None:
        partners.require_network(facts, values["network"])
    if {"network", "body"} & names and values["body"] is not None:
        bodies.require(facts, values["network"], values["body"])
    if "program" in names and values["program"] is not None:
        programs.require(facts, values["program"])


@rule(RecordActivity, reads=plan_record, returns=ACTIVITY)
def record(facts: Facts, command: RecordActivity) -> list[DomainEvent]:
    key = check_key("activity", command.key)
    if activity(facts, key) is not None:
        raise Conflict(f"activity {key!r} is already recorded")
    values = _check_activity(_given(command))
    _check_references(facts, values, set(ACTIVITY_FIELDS))
    return [ActivityRecorded(key=key, **values)]


@rule(CorrectActivity, reads=plan_correct_activity, returns=ACTIVITY)
def correct_activity(facts: Facts, command: CorrectActivity) -> list[DomainEvent]:
    current = activity(facts, command.key)
    if current is None:
        raise NotFound(f"activity {command.key!r} is not recorded")
    values, changed = corrected(current, command, ACTIVITY_FIELDS, ACTIVITY_OPTIONAL)
    values = _check_activity(values)
    given = {name for name, value in _given(command).items() if value is not None}
    both = {"network", "body"}
    if values["body"] is not None and both & given and not both <= given:
        # The body stream to check is only known (and read) when both are given.
        raise ValidationError("give both network and body when correcting either one")
    _check_references(facts, values, given & set(changed))
    return [ActivityCorrected(key=current.key, **values, corrected_fields=changed)]


# --- commitments -------------------------------------------------------------------------

COMMITMENT_OPTIONAL = ("by_title", "activity", "focus_areas", "collaborators")


def _commitment_reads(by: str | None, activity_key: str | None) -> tuple[str, ...]:
    reads = [] if by is None else [partner_stream(by)]
    return (*reads, *([] if activity_key is None else [activity_stream(activity_key)]))


def plan_announce(command: AnnounceCommitment) -> Plan:
    reads = _commitment_reads(command.by, command.activity)
    return Plan(commitment_stream(command.key), reads)


def plan_correct_commitment(command: CorrectCommitment) -> Plan:
    reads = _commitment_reads(command.by, command.activity)
    return Plan(commitment_stream(command.key), reads)


def _check_commitment(facts: Facts, values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    values = dict(values)
    values["statement"] = check_text("statement", values["statement"])
    values["by_title"] = optional_text("by title", values["by_title"])
    values["focus_areas"] = check_texts("focus areas", values["focus_areas"])
    values["collaborators"] = check_texts("collaborators", values["collaborators"])
    if "by" in names:
        partners.require(facts, values["by"])
    if "activity" in names and values["activity"] is not None:
        _check_held_then(facts, values["activity"], values["on"])
    return values


def _check_held_then(facts: Facts, key: str, on: PartialDate) -> None:
    held = activity(facts, key)
    if held is None:
        raise NotFound(f"activity {key!r} is not recorded")
    if on.before(held.on) is True or held.on.before(on) is True:
        raise ValidationError(f"announced on {on}, but activity {key!r} took place on {held.on}")


@rule(AnnounceCommitment, reads=plan_announce, returns=COMMITMENT)
def announce(facts: Facts, command: AnnounceCommitment) -> list[DomainEvent]:
    key = check_key("commitment", command.key)
    if commitment(facts, key) is not None:
        raise Conflict(f"commitment {key!r} is already recorded")
    given = {name: getattr(command, name) for name in COMMITMENT_FIELDS}
    values = _check_commitment(facts, given, set(COMMITMENT_FIELDS))
    return [CommitmentAnnounced(key=key, **values)]


@rule(CorrectCommitment, reads=plan_correct_commitment, returns=COMMITMENT)
def correct_commitment(facts: Facts, command: CorrectCommitment) -> list[DomainEvent]:
    current = commitment(facts, command.key)
    if current is None:
        raise NotFound(f"commitment {command.key!r} is not recorded")
    values, changed = corrected(current, command, COMMITMENT_FIELDS, COMMITMENT_OPTIONAL)
    names = {"by"} & set(changed)
    if command.activity is not None:
        names.add("activity")
    checked = _check_commitment(facts, values, names)
    return [CommitmentCorrected(key=current.key, **checked, corrected_fields=changed)]


def plan_retract_activity(command: RetractActivity) -> Plan:
    return Plan(activity_stream(command.key))


def _activity_key(command: RetractActivity) -> tuple[ObjectKind, str]:
    return ObjectKind.ACTIVITY, command.key


@rule(
    RetractActivity,
    reads=plan_retract_activity,
    returns=ACTIVITY.before(),
    unreferenced=_activity_key,
)
def retract_activity(facts: Facts, command: RetractActivity) -> list[DomainEvent]:
    check_reason(command.reason)
    if activity(facts, command.key) is None:
        raise NotFound(f"activity {command.key!r} is not recorded")
    return [ActivityRetracted(key=command.key)]


def plan_retract_commitment(command: RetractCommitment) -> Plan:
    return Plan(commitment_stream(command.key))


@rule(RetractCommitment, reads=plan_retract_commitment, returns=COMMITMENT.before())
def retract_commitment(facts: Facts, command: RetractCommitment) -> list[DomainEvent]:
    check_reason(command.reason)
    if commitment(facts, command.key) is None:
        raise NotFound(f"commitment {command.key!r} is not recorded")
    return [CommitmentRetracted(key=command.key)]
