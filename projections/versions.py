"""Bitemporal row versions: the columns every read table shares, and how versions change.

A row version holds in the world over its valid period (partial dates kept as text, with
the first and last day each may mean) and in the record over its record period (the log
positions, and times, from which and until which the record said so). Nothing is updated
in place but the end of a record period: a change closes the open version and opens a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql import ColumnElement

from events.chain import canonical_json
from events.dates import LATEST, PartialDate
from events.model import RecordedEvent
from events.tables import UTCDateTime

RECORD_COLUMNS = frozenset(
    {"key", "slice", "record_from", "record_to", "recorded_from", "recorded_to", "event_type"}
)


def versioned_table(name: str, metadata: MetaData, *items: SchemaItem) -> Table:
    """A read table keyed by (key, record_from, slice) with valid and record periods.

    `slice` tells apart the versions one event opens for one key (the values before and
    after a change that took effect on a date).
    """
    return Table(
        name,
        metadata,
        Column("key", String(200), nullable=False),
        Column("valid_from", String(10)),
        Column("valid_from_lo", Date, nullable=False),
        Column("valid_from_hi", Date, nullable=False),
        Column("valid_to", String(10)),
        Column("valid_to_lo", Date, nullable=False),
        Column("valid_to_hi", Date, nullable=False),
        Column("record_from", BigInteger, nullable=False),
        Column("slice", Integer, nullable=False),
        Column("record_to", BigInteger),
        Column("recorded_from", UTCDateTime, nullable=False),
        Column("recorded_to", UTCDateTime),
        Column("event_type", String(100), nullable=False),
        PrimaryKeyConstraint("key", "record_from", "slice"),
        Index(f"ix_{name}_key_open", "key", "record_to"),
        Index(f"ix_{name}_record", "record_from", "record_to"),
        *items,
    )


def valid_period(since: PartialDate | None, until: PartialDate | None) -> dict[str, Any]:
    """Columns for a valid period: `since` None or unknown is an unknown start; `until` None
    is open (still holds)."""
    since = since or PartialDate()
    return {
        "valid_from": str(since) if since.known else None,
        "valid_from_lo": since.earliest,
        "valid_from_hi": since.latest,
        "valid_to": None if until is None else str(until),
        "valid_to_lo": LATEST if until is None else until.earliest,
        "valid_to_hi": LATEST if until is None else until.latest,
    }


def as_text(values: list[str]) -> str:
    """Lists are kept as canonical JSON text, the same on every engine."""
    return canonical_json(values)


async def open_version(
    connection: AsyncConnection,
    table: Table,
    key: str,
    values: Mapping[str, Any],
    event: RecordedEvent,
    slice: int = 0,
) -> None:
    """Start a version of `key` from this event on."""
    record = {
        "record_from": event.position,
        "slice": slice,
        "record_to": None,
        "recorded_from": event.recorded_at,
        "recorded_to": None,
        "event_type": event.type,
    }
    await connection.execute(insert(table).values(key=key, **values, **record))


async def open_versions(
    connection: AsyncConnection, table: Table, key: str
) -> list[dict[str, Any]]:
    """The versions of `key` the record holds now, in valid-time order."""
    query = (
        select(table)
        .where(table.c.key == key, table.c.record_to.is_(None))
        .order_by(table.c.valid_from_lo, table.c.slice)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def close_versions(
    connection: AsyncConnection, table: Table, key: str, event: RecordedEvent
) -> None:
    """From this event on, the record no longer says what the open versions of `key` say."""
    await close_where(connection, table, table.c.key == key, event)


async def close_where(
    connection: AsyncConnection, table: Table, which: ColumnElement[bool], event: RecordedEvent
) -> None:
    """Close the record period of every open version that matches `which`."""
    await connection.execute(
        update(table)
        .where(which, table.c.record_to.is_(None))
        .values(record_to=event.position, recorded_to=event.recorded_at)
    )


def kept_values(version: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in version.items() if k not in RECORD_COLUMNS}


async def revise(
    connection: AsyncConnection,
    table: Table,
    key: str,
    changes: Mapping[str, Any],
    event: RecordedEvent,
) -> bool:
    """Close the open version of `key` and open one with `changes`. False if none is open.

    Where earlier changes left several valid-time slices, the latest one is revised and
    the others are carried over as they were.
    """
    versions = await open_versions(connection, table, key)
    if not versions:
        return False
    await close_versions(connection, table, key, event)
    for slice, version in enumerate(versions):
        latest = slice == len(versions) - 1
        values = {**kept_values(version), **(changes if latest else {})}
        await open_version(connection, table, key, values, event, slice)
    return True


async def change_from(
    connection: AsyncConnection,
    table: Table,
    key: str,
    changes: Mapping[str, Any],
    effective: PartialDate,
    event: RecordedEvent,
) -> bool:
    """A change that took effect in the world on `effective`: the latest slice ends there and
    a new one with `changes` starts there."""
    versions = await open_versions(connection, table, key)
    if not versions:
        return False
    await close_versions(connection, table, key, event)
    *earlier, latest = versions
    slices = [kept_values(v) for v in earlier]
    before = kept_values(latest)
    slices.append({**before, **_end(effective)})
    slices.append({**before, **changes, **_start(effective, before)})
    for slice, values in enumerate(slices):
        await open_version(connection, table, key, values, event, slice)
    return True


def _end(until: PartialDate) -> dict[str, Any]:
    return {"valid_to": str(until), "valid_to_lo": until.earliest, "valid_to_hi": until.latest}


def _start(since: PartialDate, before: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "valid_from": str(since) if since.known else None,
        "valid_from_lo": since.earliest,
        "valid_from_hi": since.latest,
        "valid_to": before["valid_to"],
        "valid_to_lo": before["valid_to_lo"],
        "valid_to_hi": before["valid_to_hi"],
    }


def may_hold_within(table: Table, first: date, last: date) -> ColumnElement[bool]:
    """Versions whose valid period may include a day from `first` to `last` (certainly or
    not): a day, or a period such as a year."""
    return (table.c.valid_from_lo <= last) & (table.c.valid_to_hi >= first)


def certainly_holds_within(version: Mapping[str, Any], first: date, last: date) -> bool:
    """Does the valid period certainly include some day from `first` to `last`? False: the
    dates cannot tell. (The days it certainly holds run from the latest its start may be to
    the earliest its end may be.)"""
    return bool(max(version["valid_from_hi"], first) <= min(version["valid_to_lo"], last))


def known_at(table: Table, position: int | None) -> ColumnElement[bool]:
    """Versions the record held at log position `position` (now, when None)."""
    if position is None:
        return table.c.record_to.is_(None)
    return (table.c.record_from <= position) & (
        table.c.record_to.is_(None) | (table.c.record_to > position)
    )
