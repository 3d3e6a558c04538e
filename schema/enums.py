"""The closed sets of the record as GraphQL enums, on inputs and filters alike.

The enums are the domain's own (domain.vocabulary); registering them here gives them their
GraphQL names. A value goes out as the enum member's name (`CITY`) and comes in as the
member, which is also its text (`"city"`), as events store it.
"""

from __future__ import annotations

from enum import StrEnum

import strawberry

from domain.vocabulary import (
    ActivityKind,
    Field,
    Mode,
    ObjectKind,
    PartnerKind,
    ProgramKind,
    ProgramStatus,
)


class ChangeKind(StrEnum):
    """What a change did to an object."""

    STARTED = "started"
    ENDED = "ended"
    RECORDED = "recorded"
    CORRECTED = "corrected"
    CHANGED = "changed"
    RETRACTED = "retracted"


for enum, name, description in (
    (PartnerKind, "PartnerKind", "What kind of partner: a city, a network, ..."),
    (Field, "CooperationField", "The field a program or activity is in."),
    (ProgramKind, "ProgramKind", "What kind of program: an exchange, a bilateral program, ..."),
    (ProgramStatus, "ProgramStatus", "Whether a program was still running."),
    (ActivityKind, "ActivityKind", "What kind of activity: a workshop, a meeting, ..."),
    (Mode, "ActivityMode", "How an activity was held."),
    (ObjectKind, "ObjectKind", "The kinds of object the record holds."),
    (ChangeKind, "ChangeKind", "What a change did to an object."),
):
    strawberry.enum(enum, name=name, description=description)

__all__ = [
    "ActivityKind",
    "ChangeKind",
    "Field",
    "Mode",
    "ObjectKind",
    "PartnerKind",
    "ProgramKind",
    "ProgramStatus",
]
