"""The cooperation domain's events. Each is a frozen dataclass named in the past tense.

Payloads are flat and explicit: every event names the partner keys, ids and dates a
projector needs, so it can be folded without looking anything up. Dates are
`PartialDate`s at the precision the source gave ("2006", "2009-05", "unknown").

Streams (see `domain.rules.streams`): `partner:<key>`, `membership:<member>@<network>`,
`role:<holder>@<network>`, `body:<network>.<body>`, `program:<key>`, `activity:<key>`,
`commitment:<key>`, `source:<key>`.

Corrections are new events naming what they correct (an id or key), carrying the full
corrected values and `corrected_fields`; the reason is in the event's metadata.
Retractions withdraw a fact recorded in error: from them on the record no longer holds it
(earlier record times still do); their reason is in the metadata too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from domain.streams import (
    activity_stream,
    body_stream,
    commitment_stream,
    membership_stream,
    partner_stream,
    program_stream,
    role_stream,
    source_stream,
)
from domain.vocabulary import ActivityKind, Field, Mode, PartnerKind, ProgramKind
from events.dates import PartialDate
from events.registry import EventTypes, Payload

cooperation_events = EventTypes()


class DomainEvent(ABC):
    """Something that happened to the cooperation record, in the past tense."""

    __slots__ = ()

    @property
    @abstractmethod
    def stream(self) -> str:
        """The stream this event belongs to."""


# --- sources -----------------------------------------------------------------------------


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class SourceRegistered(DomainEvent):
    """A document facts are taken from, with the sections a reference may name."""

    key: str
    title: str
    publisher: str | None = None
    url: str | None = None
    sections: list[str]

    @property
    def stream(self) -> str:
        return source_stream(self.key)


# --- partners ----------------------------------------------------------------------------


@cooperation_events.register(choices={"kind": PartnerKind})
@dataclass(frozen=True, kw_only=True)
class PartnerRegistered(DomainEvent):
    key: str
    name: str
    kind: str  # a PartnerKind's value
    country: str | None = None
    region: str | None = None
    description: str | None = None

    @property
    def stream(self) -> str:
        return partner_stream(self.key)


@cooperation_events.register(choices={"kind": PartnerKind})
@dataclass(frozen=True, kw_only=True)
class PartnerUpdated(DomainEvent):
    """The partner's details changed in the world (a network renamed itself): all values after."""

    key: str
    name: str
    kind: str
    country: str | None = None
    region: str | None = None
    description: str | None = None
    effective: PartialDate | None = None
    changed_fields: list[str]

    @property
    def stream(self) -> str:
        return partner_stream(self.key)


@cooperation_events.register(choices={"kind": PartnerKind})
@dataclass(frozen=True, kw_only=True)
class PartnerCorrected(DomainEvent):
    """The partner's details were recorded wrongly: all values as they should have been."""

    key: str
    name: str
    kind: str
    country: str | None = None
    region: str | None = None
    description: str | None = None
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return partner_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class PartnerRetracted(DomainEvent):
    """The partner was registered in error: the record no longer holds it."""

    key: str

    @property
    def stream(self) -> str:
        return partner_stream(self.key)


# --- memberships -------------------------------------------------------------------------


def _membership_started_v1_to_v2(data: Payload) -> Payload:
    # v1 kept one free-text note; v2 keeps a list of them.
    note = data.pop("note", None)
    return {**data, "notes": [note] if note else []}


@cooperation_events.register(version=2, upcasters={1: _membership_started_v1_to_v2})
@dataclass(frozen=True, kw_only=True)
class MembershipStarted(DomainEvent):
    membership_id: str  # "<member>@<network>#<n>"
    member: str
    network: str
    since: PartialDate
    notes: list[str]

    @property
    def stream(self) -> str:
        return membership_stream(self.member, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class MembershipEnded(DomainEvent):
    membership_id: str
    member: str
    network: str
    until: PartialDate

    @property
    def stream(self) -> str:
        return membership_stream(self.member, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class MembershipCorrected(DomainEvent):
    """The membership's period or notes were recorded wrongly: its values as they should be."""

    membership_id: str
    member: str
    network: str
    since: PartialDate
    until: PartialDate | None = None
    notes: list[str]
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return membership_stream(self.member, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class MembershipRetracted(DomainEvent):
    """The membership was recorded in error: the record no longer holds it."""

    membership_id: str
    member: str
    network: str

    @property
    def stream(self) -> str:
        return membership_stream(self.member, self.network)


# --- bodies and roles --------------------------------------------------------------------


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class BodyRegistered(DomainEvent):
    """A body of a network (C40's Steering Committee)."""

    network: str
    body: str
    name: str
    description: str | None = None

    @property
    def stream(self) -> str:
        return body_stream(self.network, self.body)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class BodySizeRecorded(DomainEvent):
    """How many seats (or member cities) a body had as of a date."""

    network: str
    body: str
    size: int
    as_of: PartialDate

    @property
    def stream(self) -> str:
        return body_stream(self.network, self.body)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class RoleAssigned(DomainEvent):
    """A member holds a position in a network (body None) or one of its bodies.

    `held_as_of` is a date the source attests the role held on, when its start is unknown
    ("vice chair at the December 2020 meeting").
    """

    role_id: str  # "<holder>@<network>#role-<n>"
    holder: str
    network: str
    body: str | None = None
    position: str
    holder_title: str | None = None
    since: PartialDate
    held_as_of: PartialDate | None = None
    notes: list[str]

    @property
    def stream(self) -> str:
        return role_stream(self.holder, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class RoleEnded(DomainEvent):
    role_id: str
    holder: str
    network: str
    body: str | None = None
    position: str
    until: PartialDate

    @property
    def stream(self) -> str:
        return role_stream(self.holder, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class RoleCorrected(DomainEvent):
    role_id: str
    holder: str
    network: str
    body: str | None = None
    position: str
    holder_title: str | None = None
    since: PartialDate
    until: PartialDate | None = None
    held_as_of: PartialDate | None = None
    notes: list[str]
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return role_stream(self.holder, self.network)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class RoleRetracted(DomainEvent):
    """The role was recorded in error: the record no longer holds it."""

    role_id: str
    holder: str
    network: str

    @property
    def stream(self) -> str:
        return role_stream(self.holder, self.network)


# --- programs ----------------------------------------------------------------------------


@cooperation_events.register(choices={"field": Field, "kind": ProgramKind})
@dataclass(frozen=True, kw_only=True)
class ProgramLaunched(DomainEvent):
    """A cooperation in a field, led by a partner; partners join with PartnerJoinedProgram."""

    key: str
    name: str
    field: str
    kind: str
    topics: list[str]
    lead: str
    network: str | None = None  # the network whose initiative this is
    since: PartialDate
    description: str | None = None

    @property
    def stream(self) -> str:
        return program_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class PartnerJoinedProgram(DomainEvent):
    participation_id: str  # "<program>/<partner>#<n>"
    program: str
    partner: str
    since: PartialDate

    @property
    def stream(self) -> str:
        return program_stream(self.program)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class PartnerLeftProgram(DomainEvent):
    participation_id: str
    program: str
    partner: str
    until: PartialDate

    @property
    def stream(self) -> str:
        return program_stream(self.program)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class ProgramConcluded(DomainEvent):
    key: str
    until: PartialDate

    @property
    def stream(self) -> str:
        return program_stream(self.key)


@cooperation_events.register(choices={"field": Field, "kind": ProgramKind})
@dataclass(frozen=True, kw_only=True)
class ProgramCorrected(DomainEvent):
    key: str
    name: str
    field: str
    kind: str
    topics: list[str]
    lead: str
    network: str | None = None
    since: PartialDate
    until: PartialDate | None = None
    description: str | None = None
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return program_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class ProgramRetracted(DomainEvent):
    """The program was recorded in error: the record no longer holds it, nor who took part."""

    key: str

    @property
    def stream(self) -> str:
        return program_stream(self.key)


# --- activities and commitments ----------------------------------------------------------


@cooperation_events.register(choices={"kind": ActivityKind, "mode": Mode, "field": Field})
@dataclass(frozen=True, kw_only=True)
class ActivityRecorded(DomainEvent):
    """A dated occurrence: a workshop, an annual meeting, a committee meeting, an event."""

    key: str
    name: str
    kind: str
    on: PartialDate
    mode: str | None = None  # a Mode's value; None when the source does not say
    field: str | None = None
    organiser: str | None = None
    participants: list[str]  # partner keys
    representatives: list[str]  # who spoke for them ("Governor of Tokyo")
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None

    @property
    def stream(self) -> str:
        return activity_stream(self.key)


@cooperation_events.register(choices={"kind": ActivityKind, "mode": Mode, "field": Field})
@dataclass(frozen=True, kw_only=True)
class ActivityCorrected(DomainEvent):
    key: str
    name: str
    kind: str
    on: PartialDate
    mode: str | None = None
    field: str | None = None
    organiser: str | None = None
    participants: list[str]
    representatives: list[str]
    network: str | None = None
    body: str | None = None
    program: str | None = None
    description: str | None = None
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return activity_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class ActivityRetracted(DomainEvent):
    """The activity was recorded in error: the record no longer holds it."""

    key: str

    @property
    def stream(self) -> str:
        return activity_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class CommitmentAnnounced(DomainEvent):
    """What a partner declared, when and at which activity, with its focus areas."""

    key: str
    by: str
    by_title: str | None = None
    on: PartialDate
    activity: str | None = None
    statement: str
    focus_areas: list[str]
    collaborators: list[str]

    @property
    def stream(self) -> str:
        return commitment_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class CommitmentCorrected(DomainEvent):
    key: str
    by: str
    by_title: str | None = None
    on: PartialDate
    activity: str | None = None
    statement: str
    focus_areas: list[str]
    collaborators: list[str]
    corrected_fields: list[str]

    @property
    def stream(self) -> str:
        return commitment_stream(self.key)


@cooperation_events.register()
@dataclass(frozen=True, kw_only=True)
class CommitmentRetracted(DomainEvent):
    """The commitment was recorded in error: the record no longer holds it."""

    key: str

    @property
    def stream(self) -> str:
        return commitment_stream(self.key)
