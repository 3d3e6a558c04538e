"""The closed sets of the cooperation record: kinds, fields, modes, statuses, object kinds.

Events keep the values as text; these enums are the one list of what a value may be.
"""

from __future__ import annotations

from enum import StrEnum


class PartnerKind(StrEnum):
    CITY = "city"
    NETWORK = "network"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    NATIONAL_GOVERNMENT = "national_government"
    OTHER = "other"


# The kinds of partner that have members.
NETWORK_KINDS = (PartnerKind.NETWORK, PartnerKind.INTERNATIONAL_ORGANISATION)


class Field(StrEnum):
    """The field a program or activity is in."""

    AIR_QUALITY = "air_quality"
    WASTE_MANAGEMENT = "waste_management"
    CLIMATE_AND_EMISSIONS_TRADING = "climate_and_emissions_trading"
    CLIMATE_ACTION = "climate_action"
    BUILDINGS = "buildings"
    HYDROGEN = "hydrogen"


class ProgramKind(StrEnum):
    RESEARCHER_EXCHANGE = "researcher_exchange"
    TECHNOLOGY_EXCHANGE = "technology_exchange"
    BILATERAL_PROGRAM = "bilateral_program"
    TRAINING_PROGRAM = "training_program"
    NETWORK_INITIATIVE = "network_initiative"
    KNOWLEDGE_SHARING = "knowledge_sharing"


class ProgramStatus(StrEnum):
    ACTIVE = "active"
    CONCLUDED = "concluded"


class ActivityKind(StrEnum):
    WORKSHOP = "workshop"
    ANNUAL_MEETING = "annual_meeting"
    COMMITTEE_MEETING = "committee_meeting"
    EVENT = "event"
    CONFERENCE = "conference"


class Mode(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class ObjectKind(StrEnum):
    """The kinds of object the record holds; a command's result is one of them."""

    SOURCE = "source"
    PARTNER = "partner"
    MEMBERSHIP = "membership"
    BODY = "body"
    ROLE = "role"
    PROGRAM = "program"
    PARTICIPATION = "participation"
    ACTIVITY = "activity"
    COMMITMENT = "commitment"
