"""Programs and the partners taking part in them, each over a period."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import (
    PartnerJoinedProgram,
    PartnerLeftProgram,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
    ProgramRetracted,
)
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records, quoted
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
    folds_in_database = True

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

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as two INSERT ... SELECTs (projections.in_database
        .versions): programs as their launches, corrections, conclusions and retractions give
        them; a partner's participation from joining, ended by leaving or by the first
        retraction of its program after it joined. Only where each program is launched once
        and each participation joined once."""
        programs = Records(
            self.tables["programs"],
            "SELECT key, position, type, recorded_at FROM {log}"
            f" WHERE type IN ({quoted(_PROGRAM_EVENTS)})",
            started=LAUNCHED,
            sets=[LAUNCHED, CORRECTED],
            dated=[LAUNCHED, CORRECTED],
            ends=[ProgramConcluded.__name__, CORRECTED],
            retracted=RETRACTED,
            own=[f"f.{name}" for name in _PROGRAM_VALUES],
        )
        # A participation's events, and the retractions of its program after it joined.
        participations = Records(
            self.tables["program_partners"],
            "SELECT participation AS key, position, type, recorded_at FROM {log}"
            f" WHERE type IN ('{JOINED}', '{LEFT}')"
            " UNION ALL SELECT j.participation, r.position, r.type, r.recorded_at"
            f" FROM {{log}} j JOIN {{log}} r ON r.type = '{RETRACTED}' AND r.key = j.program"
            f" AND r.position > j.position WHERE j.type = '{JOINED}'",
            started=JOINED,
            sets=[JOINED],
            dated=[JOINED],
            ends=[LEFT],
            retracted=RETRACTED,
            own=["s.program", "s.partner"],
        )
        return await fold_records(
            connection, types, self.handled, until, _FIELDS, [programs, participations]
        )


_PROGRAM_VALUES = ["name", "field", "kind", "topics", "lead", "network", "description"]
_FIELDS = {
    "key": ("key", "text"),
    "participation": ("participation_id", "text"),
    "program": ("program", "text"),
    "partner": ("partner", "text"),
    "since": ("since", "text"),
    "until": ("until", "text"),
    **{name: (name, "json" if name == "topics" else "text") for name in _PROGRAM_VALUES},
}
LAUNCHED, CORRECTED, RETRACTED, JOINED, LEFT = (
    ProgramLaunched.__name__,
    ProgramCorrected.__name__,
    ProgramRetracted.__name__,
    PartnerJoinedProgram.__name__,
    PartnerLeftProgram.__name__,
)
_PROGRAM_EVENTS = [LAUNCHED, CORRECTED, ProgramConcluded.__name__, RETRACTED]
