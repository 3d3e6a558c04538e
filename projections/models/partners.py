"""Partners: cities, networks, organisations; details versioned in both times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Text

from domain.events import PartnerCorrected, PartnerRegistered, PartnerRetracted, PartnerUpdated
from events.dates import PartialDate
from projections.framework import Folded, Projector, Touch
from projections.models.metadata import read_metadata
from projections.versions import Stamp, valid_period, versioned_table

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

    def touches(self, decoded: Any) -> list[Touch]:
        return [("partners", "key", decoded.key)]

    def fold(self, rows: Folded, event: Stamp, decoded: Any) -> None:
        table = rows["partners"]
        match decoded:
            case PartnerRegistered():
                values = {**details(decoded), **valid_period(None, None)}
                table.open_version(decoded.key, values, event)
            case PartnerUpdated(effective=PartialDate() as effective):
                # A change in the world from a date (perhaps one no source gives).
                table.change_from(decoded.key, details(decoded), effective, event)
            case PartnerUpdated() | PartnerCorrected():
                # A correction, or an update recorded before updates had to be dated: the
                # values hold for all valid time.
                table.revise(decoded.key, details(decoded), event)
            case PartnerRetracted():
                table.close(decoded.key, event)
            case _:
                self.unhandled(decoded)
