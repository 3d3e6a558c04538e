"""Commands: what an editor (or the seed loader) asks the record to take in. Plain values.

Every command names its source (document and section) and may carry a reason, the
version the caller expects the written stream to be at, and an idempotency key.

A command that creates something names what it relates to by key (`member: "tokyo"`); one
that acts on something already recorded names it by its id alone (`identity`), and
everything else is found from that.

Corrections take only the values that change: a field left `None` keeps its value, and
`clear` names optional fields to empty (`clear=["until"]` reopens a period). Retractions
withdraw a fact recorded in error and must say why.

A command's docstring says what it records; the API shows it as the mutation's
description. Each command's rule is declared beside its decision in `domain.rules`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from domain.vocabulary import ActivityKind, Field, Mode, ObjectKind, PartnerKind, ProgramKind
from events.dates import PartialDate
from events.model import SourceRef


def _unknown() -> PartialDate:
    return PartialDate()


_DECLARED: list[type[Command]] = []


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command carries besides its own values."""

    # What the command acts on, when it is something already recorded: its kind, and the
    # field that holds its id.
    identity: ClassVar[tuple[ObjectKind, str] | None] = None

    source: SourceRef
    reason: str | None = None
    expected_version: int | None = None  # 0: the stream must not exist yet
    idempotency_key: str | None = None

    def __init_subclass__(cls, *, abstract: bool = False, **options: object) -> None:
        super().__init_subclass__(**options)
        if not abstract:
            _DECLARED.append(cls)


@dataclass(frozen=True, kw_only=True)
class Correction(Command, abstract=True):
    """A command that fixes values recorded wrongly (or changed): only what it gives changes."""

    clear: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Retraction(Command, abstract=True):
    """A command that withdraws a fact recorded in error; the reason is required."""

    reason: str = dataclasses.field()  # required here, though optional on other commands


# --- sources and partners ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterSource(Command):
    """Register a document facts are taken from, with its sections."""

    key: str
    title: str
    publisher: str | None = None
    url: str | None = None
    sections: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RegisterPartner(Command):
    """Register a city, network, organisation or national body under a new key."""

    key: str
    name: str
    kind: PartnerKind
    country: str | None = None
    region: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdatePartner(Correction):
    """Record that a partner's details changed in the world, from `effective` (a partial date,
    or "unknown" when no source dates the change). Before that date the partner keeps its
    earlier details. To fix details that were recorded wrongly, use `correctPartner`."""

    identity = (ObjectKind.PARTNER, "key")

    key: str
    effective: PartialDate
    name: str | None = None
    kind: PartnerKind | None = None
    country: str | None = None
    region: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectPartner(Correction):
    """Correct a partner's details that were recorded wrongly: the corrected values hold for
    all valid time. For a change in the world (a network renamed itself), use `updatePartner`."""

    identity = (ObjectKind.PARTNER, "key")

    key: str
    name: str | None = None
    kind: PartnerKind | None = None
    country: str | None = None
    region: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetractPartner(Retraction):
    """Withdraw a partner registered in error; refused while any fact refers to it."""

    identity = (ObjectKind.PARTNER, "key")

    key: str


# --- memberships -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StartMembership(Command):
    """Record that a member joined a network (since a partial date)."""

    member: str
    network: str
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EndMembership(Command):
    """Record that a membership ended."""

    identity = (ObjectKind.MEMBERSHIP, "membership_id")

    membership_id: str
    until: PartialDate


@dataclass(frozen=True, kw_only=True)
class CorrectMembership(Correction):
    """Correct a membership's period or notes recorded wrongly."""

    identity = (ObjectKind.MEMBERSHIP, "membership_id")

    membership_id: str
    since: PartialDate | None = None
    until: PartialDate | None = None
    notes: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class RetractMembership(Retraction):
    """Withdraw a membership recorded in error; refused while a role lies within it alone."""

    identity = (ObjectKind.MEMBERSHIP, "membership_id")

    membership_id: str


# --- bodies and roles --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterBody(Command):
    """Register a body of a network (a steering committee)."""

    network: str
    body: str
    name: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordBodySize(Command):
    """Record how many seats a body had as of a date."""

    network: str
    body: str
    size: int
    as_of: PartialDate


@dataclass(frozen=True, kw_only=True)
class AssignRole(Command):
    """Record that a member holds a position (`title`: "vice chair") in a network or one of
    its bodies."""

    holder: str
    network: str
    title: str
    body: str | None = None
    holder_title: str | None = None
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    held_as_of: PartialDate | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EndRole(Command):
    """Record that a role ended."""

    identity = (ObjectKind.ROLE, "role_id")

    role_id: str
    until: PartialDate


@dataclass(frozen=True, kw_only=True)
class CorrectRole(Correction):
    """Correct a role recorded wrongly."""

    identity = (ObjectKind.ROLE, "role_id")

    role_id: str
    title: str | None = None
    body: str | None = None
    holder_title: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    held_as_of: PartialDate | None = None
    notes: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class RetractRole(Retraction):
    """Withdraw a role recorded in error."""

    identity = (ObjectKind.ROLE, "role_id")

    role_id: str


# --- programs ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LaunchProgram(Command):
    """Record a cooperation program in a field, with its lead and partners."""

    key: str
    name: str
    field: Field
    kind: ProgramKind
    lead: str
    topics: list[str] = dataclasses.field(default_factory=list)
    # Besides the lead; they join at `since`.
    partners: list[str] = dataclasses.field(default_factory=list)
    network: str | None = None
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConcludeProgram(Command):
    """Record that a program concluded."""

    identity = (ObjectKind.PROGRAM, "key")

    key: str
    until: PartialDate


@dataclass(frozen=True, kw_only=True)
class CorrectProgram(Correction):
    """Correct a program recorded wrongly."""

    identity = (ObjectKind.PROGRAM, "key")

    key: str
    name: str | None = None
    field: Field | None = None
    kind: ProgramKind | None = None
    topics: list[str] | None = None
    lead: str | None = None
    network: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetractProgram(Retraction):
    """Withdraw a program recorded in error, with who took part in it; refused while an
    activity is recorded under it."""

    identity = (ObjectKind.PROGRAM, "key")

    key: str


@dataclass(frozen=True, kw_only=True)
class JoinProgram(Command):
    """Record that a partner joined a program."""

    program: str
    partner: str
    since: PartialDate = dataclasses.field(default_factory=_unknown)


@dataclass(frozen=True, kw_only=True)
class LeaveProgram(Command):
    """Record that a partner left a program (its participation ended)."""

    identity = (ObjectKind.PARTICIPATION, "participation_id")

    participation_id: str
    until: PartialDate


# --- activities and commitments ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordActivity(Command):
    """Record a workshop, meeting or event on a (partial) date."""

    key: str
    name: str
    kind: ActivityKind
    on: PartialDate = dataclasses.field(default_factory=_unknown)
    mode: Mode | None = None
    field: Field | None = None
    organiser: str | None = None
    participants: list[str] = dataclasses.field(default_factory=list)
    representatives: list[str] = dataclasses.field(default_factory=list)
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectActivity(Correction):
    """Correct an activity recorded wrongly."""

    identity = (ObjectKind.ACTIVITY, "key")

    key: str
    name: str | None = None
    kind: ActivityKind | None = None
    on: PartialDate | None = None
    mode: Mode | None = None
    field: Field | None = None
    organiser: str | None = None
    participants: list[str] | None = None
    representatives: list[str] | None = None
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetractActivity(Retraction):
    """Withdraw an activity recorded in error; refused while a commitment was announced at it."""

    identity = (ObjectKind.ACTIVITY, "key")

    key: str


@dataclass(frozen=True, kw_only=True)
class AnnounceCommitment(Command):
    """Record what a partner announced, when and where. `collaborators` are as the source
    gives them: a registered partner's key, or words ("businesses", "C40 member cities")."""

    key: str
    by: str
    statement: str
    by_title: str | None = None
    on: PartialDate = dataclasses.field(default_factory=_unknown)
    activity: str | None = None
    focus_areas: list[str] = dataclasses.field(default_factory=list)
    collaborators: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class CorrectCommitment(Correction):
    """Correct a commitment recorded wrongly."""

    identity = (ObjectKind.COMMITMENT, "key")

    key: str
    by: str | None = None
    statement: str | None = None
    by_title: str | None = None
    on: PartialDate | None = None
    activity: str | None = None
    focus_areas: list[str] | None = None
    collaborators: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class RetractCommitment(Retraction):
    """Withdraw a commitment recorded in error."""

    identity = (ObjectKind.COMMITMENT, "key")

    key: str


def all_commands() -> tuple[type[Command], ...]:
    """Every command of the domain, in the order they are declared here."""
    return tuple(_DECLARED)


def command_named(name: str) -> type[Command] | None:
    return next((cls for cls in _DECLARED if cls.__name__ == name), None)
