"""Partners: cities, networks, organisations; details versioned in both times."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import PartnerCorrected, PartnerRegistered, PartnerRetracted, PartnerUpdated
from events.dates import PartialDate
from events.registry import EventTypes
from projections.framework import Folded, Projector, Touch
from projections.in_database import Records, fold_records, sliced_versions
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

    folds_in_database = True

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

    async def fold_in_database(
        self, connection: AsyncConnection, types: EventTypes, until: int
    ) -> bool:
        """`fold` over the log up to `until` as one INSERT ... SELECT
        (projections.in_database.sliced_versions): a partner's events from its registration
        to its retraction, each a version of every valid-time slice opened so far, dated
        updates opening slices, undated ones and corrections revising the latest. Only
        where each partner is registered once."""
        partners = Records(
            self.tables["partners"],
            "SELECT key, position, type, recorded_at FROM {log}",
            started=REGISTERED,
            sets=[],
            dated=[],
            ends=[],
            retracted=RETRACTED,
            own=[],
            select=partial(
                sliced_versions,
                started=REGISTERED,
                changed=UPDATED,
                retracted=RETRACTED,
                own=[f"f.{name}" for name in _VALUES],
            ),
        )
        return await fold_records(connection, types, self.handled, until, _FIELDS, [partners])


_VALUES = ["name", "kind", "country", "region", "description"]
_FIELDS = {
    "key": ("key", "text"),
    "since": ("effective", "text"),
    **{name: (name, "text") for name in _VALUES},
}
REGISTERED, UPDATED, RETRACTED = (
    PartnerRegistered.__name__,
    PartnerUpdated.__name__,
    PartnerRetracted.__name__,
)
