"""Commands: what an editor (or the seed loader) asks the record to take in. Plain values.

Every command names its source (document and section) and may carry a reason, the
version the caller expects the written stream to be at, and an idempotency key.

Corrections take only the values that change: a field left `None` keeps its value, and
`clear` names optional fields to empty (`clear=["until"]` reopens a period).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from events.dates import PartialDate
from events.model import SourceRef


def _unknown() -> PartialDate:
    return PartialDate()


@dataclass(frozen=True, kw_only=True)
class Command:
    source: SourceRef
    reason: str | None = None
    expected_version: int | None = None  # 0: the stream must not exist yet
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class Correction(Command):
    clear: list[str] = dataclasses.field(default_factory=list)


# --- sources and partners ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterSource(Command):
    key: str
    title: str
    publisher: str | None = None
    url: str | None = None
    sections: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RegisterPartner(Command):
    key: str
    name: str
    kind: str
    country: str | None = None
    region: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdatePartner(Correction):
    """The partner changed in the world (from `effective`, when known)."""

    key: str
    name: str | None = None
    kind: str | None = None
    country: str | None = None
    region: str | None = None
    description: str | None = None
    effective: PartialDate | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectPartner(Correction):
    """The partner's details were recorded wrongly."""

    key: str
    name: str | None = None
    kind: str | None = None
    country: str | None = None
    region: str | None = None
    description: str | None = None


# --- memberships -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StartMembership(Command):
    member: str
    network: str
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EndMembership(Command):
    member: str
    network: str
    until: PartialDate
    membership_id: str | None = None  # None: the one open membership


@dataclass(frozen=True, kw_only=True)
class CorrectMembership(Correction):
    member: str
    network: str
    membership_id: str
    since: PartialDate | None = None
    until: PartialDate | None = None
    notes: list[str] | None = None


# --- bodies and roles --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterBody(Command):
    network: str
    body: str
    name: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordBodySize(Command):
    network: str
    body: str
    size: int
    as_of: PartialDate


@dataclass(frozen=True, kw_only=True)
class AssignRole(Command):
    holder: str
    network: str
    position: str
    body: str | None = None
    holder_title: str | None = None
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    held_as_of: PartialDate | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EndRole(Command):
    holder: str
    network: str
    until: PartialDate
    role_id: str | None = None  # None: the one open role with this position and body
    position: str | None = None
    body: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectRole(Correction):
    holder: str
    network: str
    role_id: str
    position: str | None = None
    body: str | None = None
    holder_title: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    held_as_of: PartialDate | None = None
    notes: list[str] | None = None


# --- programs ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LaunchProgram(Command):
    key: str
    name: str
    field: str
    kind: str
    lead: str
    topics: list[str] = dataclasses.field(default_factory=list)
    partners: list[str] = dataclasses.field(
        default_factory=list
    )  # besides the lead; they join at `since`
    network: str | None = None
    since: PartialDate = dataclasses.field(default_factory=_unknown)
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class JoinProgram(Command):
    program: str
    partner: str
    since: PartialDate = dataclasses.field(default_factory=_unknown)


@dataclass(frozen=True, kw_only=True)
class LeaveProgram(Command):
    program: str
    partner: str
    until: PartialDate


@dataclass(frozen=True, kw_only=True)
class ConcludeProgram(Command):
    program: str
    until: PartialDate


@dataclass(frozen=True, kw_only=True)
class CorrectProgram(Correction):
    program: str
    name: str | None = None
    field: str | None = None
    kind: str | None = None
    topics: list[str] | None = None
    lead: str | None = None
    network: str | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    description: str | None = None


# --- activities and commitments ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordActivity(Command):
    key: str
    name: str
    kind: str
    on: PartialDate = dataclasses.field(default_factory=_unknown)
    mode: str | None = None
    field: str | None = None
    organiser: str | None = None
    participants: list[str] = dataclasses.field(default_factory=list)
    representatives: list[str] = dataclasses.field(default_factory=list)
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectActivity(Correction):
    key: str
    name: str | None = None
    kind: str | None = None
    on: PartialDate | None = None
    mode: str | None = None
    field: str | None = None
    organiser: str | None = None
    participants: list[str] | None = None
    representatives: list[str] | None = None
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnnounceCommitment(Command):
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
    key: str
    by: str | None = None
    statement: str | None = None
    by_title: str | None = None
    on: PartialDate | None = None
    activity: str | None = None
    focus_areas: list[str] | None = None
    collaborators: list[str] | None = None


ALL_COMMANDS: tuple[type[Command], ...] = (
    RegisterSource,
    RegisterPartner,
    UpdatePartner,
    CorrectPartner,
    StartMembership,
    EndMembership,
    CorrectMembership,
    RegisterBody,
    RecordBodySize,
    AssignRole,
    EndRole,
    CorrectRole,
    LaunchProgram,
    JoinProgram,
    LeaveProgram,
    ConcludeProgram,
    CorrectProgram,
    RecordActivity,
    CorrectActivity,
    AnnounceCommitment,
    CorrectCommitment,
)
COMMANDS_BY_NAME = {cls.__name__: cls for cls in ALL_COMMANDS}
