"""Programs and the partners taking part in them, each over a period."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text

from domain.events import (
    PartnerJoinedProgram,
    PartnerLeftProgram,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
    ProgramRetracted,
)
from projections.framework import Folded, Projector, Touch
from projections.models.metadata import read_metadata
from projections.versions import Stamp, as_text, valid_end, valid_period, versioned_table

programs = versioned_table(
    "programs",
    read_metadata,
    Column("name", String(300), nullable=False),
    Column("field", String(100), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("topics", Text, nullable=False),
    Column("lead", String(100), nullable=False),
    Column("network", String(100)),
    Column("description", Text),
    Index("ix_programs_field", "field", "record_to"),
    Index("ix_programs_lead", "lead", "record_from", "record_to"),
)

program_partners = versioned_table(
    "program_partners",
    read_metadata,
    Column("program", String(100), nullable=False),
    Column("partner", String(100), nullable=False),
    Index("ix_program_partners_program", "program", "record_from", "record_to"),
    Index("ix_program_partners_partner", "partner", "record_from", "record_to"),
)


def program_values(event: ProgramLaunched | ProgramCorrected) -> dict[str, Any]:
    return {
        "name": event.name,
        "field": event.field,
        "kind": event.kind,
        "topics": as_text(event.topics),
        "lead": event.lead,
        "network": event.network,
        "description": event.description,
    }


class ProgramsProjector(Projector):
    name = "programs"
    TABLES = (programs, program_partners)
    handles = frozenset(
        {
            ProgramLaunched,
            ProgramCorrected,
            ProgramConcluded,
            PartnerJoinedProgram,
            PartnerLeftProgram,
            ProgramRetracted,
        }
    )

    BY = {"program_partners": ("program",)}

    def touches(self, decoded: Any) -> list[Touch]:
        match decoded:
            case PartnerJoinedProgram() | PartnerLeftProgram():
                return [("program_partners", "key", decoded.participation_id)]
            case ProgramRetracted():
                return [
                    ("programs", "key", decoded.key),
                    ("program_partners", "program", decoded.key),
                ]
            case _:
                return [("programs", "key", decoded.key)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table, members = rows["programs"], rows["program_partners"]
        match decoded:
            case ProgramLaunched():
                values = {**program_values(decoded), **valid_period(decoded.since, None)}
                table.open_version(decoded.key, values, event)
            case ProgramCorrected():
                values = {**program_values(decoded), **valid_period(decoded.since, decoded.until)}
                table.revise(decoded.key, values, event)
            case ProgramConcluded():
                table.revise(decoded.key, valid_end(decoded.until), event)
            case PartnerJoinedProgram():
                values = {
                    "program": decoded.program,
                    "partner": decoded.partner,
                    **valid_period(decoded.since, None),
                }
                members.open_version(decoded.participation_id, values, event)
            case ProgramRetracted():
                table.close(decoded.key, event)
                members.close_where("program", decoded.key, event)
            case PartnerLeftProgram():
                members.revise(decoded.participation_id, valid_end(decoded.until), event)
            case _:
                self.unhandled(decoded)
