"""Partners: cities, networks, organisations; details versioned in both times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import PartnerCorrected, PartnerRegistered, PartnerRetracted, PartnerUpdated
from events.dates import PartialDate
from events.model import RecordedEvent
from projections.framework import Projector
from projections.models.metadata import read_metadata
from projections.versions import (
    change_from,
    close_versions,
    open_version,
    revise,
    valid_period,
    versioned_table,
)

partners = versioned_table(
    "partners",
    read_metadata,
    Column("name", String(300), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("country", String(100)),
    Column("region", String(100)),
    Column("description", Text),
    Index("ix_partners_kind", "kind", "record_to"),
)


def details(event: PartnerRegistered | PartnerUpdated | PartnerCorrected) -> dict[str, Any]:
    return {
        "name": event.name,
        "kind": event.kind,
        "country": event.country,
        "region": event.region,
        "description": event.description,
    }


class PartnersProjector(Projector):
    name = "partners"
    TABLES = (partners,)
    handles = frozenset({PartnerRegistered, PartnerUpdated, PartnerCorrected, PartnerRetracted})

    async def apply(self, connection: AsyncConnection, event: RecordedEvent, decoded: Any) -> None:
        table = self.table("partners")
        match decoded:
            case PartnerRegistered():
                values = {**details(decoded), **valid_period(None, None)}
                await open_version(connection, table, decoded.key, values, event)
            case PartnerUpdated(effective=PartialDate() as effective):
                # A change in the world from a date (perhaps one no source gives).
                await change_from(
                    connection, table, decoded.key, details(decoded), effective, event
                )
            case PartnerUpdated() | PartnerCorrected():
                # A correction, or an update recorded before updates had to be dated: the
                # values hold for all valid time.
                await revise(connection, table, decoded.key, details(decoded), event)
            case PartnerRetracted():
                await close_versions(connection, table, decoded.key, event)
            case _:
                self.unhandled(decoded)
