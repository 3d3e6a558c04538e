"""Bitemporal row versions: the columns every read table shares, and how versions change.

A row version holds in the world over its valid period (partial dates kept as text, with
the first and last day each may mean) and in the record over its record period (the log
positions, and times, from which and until which the record said so). Projectors change
versions through `Rows`, in memory, so the live path and a rebuild fold alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

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
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql import ColumnElement

from events.chain import canonical_json
from events.dates import LATEST, PartialDate
from events.tables import UTCDateTime


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


def valid_period(since: PartialDate | None, until: PartialDate | None) -> Mapping[str, Any]:
    """Columns for a valid period: `since` None or unknown is an unknown start; `until` None
    is open (still holds). One mapping per period, shared: spread it, never change it."""
    # By identity: a decoded log shares one PartialDate per spelling (events.registry), and
    # hashing one by value costs more than the whole lookup. The entry keeps both alive.
    known = _periods.get((id(since), id(until)))
    if known is not None and known[0] is since and known[1] is until:
        return known[2]
    if len(_periods) >= 1 << 16:
        _periods.clear()
    period = _period(since or PartialDate(), until)
    _periods[id(since), id(until)] = (since, until, period)
    return period


_periods: dict[tuple[int, int], tuple[Any, Any, Mapping[str, Any]]] = {}


def valid_end(until: PartialDate | None) -> Mapping[str, Any]:
    """The end columns of `valid_period(None, until)` alone, for a change that ends a
    period; shared like its mappings."""
    known = _ends.get(id(until))
    if known is not None and known[0] is until:
        return known[1]
    if len(_ends) >= 1 << 16:
        _ends.clear()
    period = valid_period(None, until)
    end = {name: period[name] for name in _VALID_TO}
    _ends[id(until)] = (until, end)
    return end


_ends: dict[int, tuple[Any, Mapping[str, Any]]] = {}


def _period(since: PartialDate, until: PartialDate | None) -> Mapping[str, Any]:
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


class Stamp(Protocol):
    """What a fold takes from an event besides its payload (a RecordedEvent is one)."""

    @property
    def position(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def type(self) -> str: ...


Version = tuple[Any, ...]
"""One row version: the table's column values in the table's column order."""

# The columns every versioned table starts with, and where the record columns are.
_SHARED = [column.name for column in versioned_table("versioned", MetaData()).columns]
_KEY, _VALID_FROM_LO, _RECORD_FROM, _SLICE, _RECORD_TO = map(
    _SHARED.index, ["key", "valid_from_lo", "record_from", "slice", "record_to"]
)
_RECORDED_FROM, _RECORDED_TO, _EVENT_TYPE = map(
    _SHARED.index, ["recorded_from", "recorded_to", "event_type"]
)
_PERIOD = _SHARED[_KEY + 1 : _RECORD_FROM]
"""The valid period's columns, in order, between the key and the record columns."""
assert list(_period(PartialDate(), None)) == _PERIOD, "the period's columns are out of order"
assert len(_SHARED) - 1 == _EVENT_TYPE, "the shared columns end with event_type"


class Rows:
    """The open versions of one read table, by key, and the versions a fold has finished.

    A fold changes versions only through these methods, in memory: the live path loads the
    open versions its events touch and writes the result back; a rebuild keeps every open
    version here from the first event to the last. Nothing is updated in place but the end
    of a record period: a change closes the open versions and opens new ones.
    """

    def __init__(self, table: Table, by: Sequence[str] = ()) -> None:
        self.table = table
        self.names = [column.name for column in table.columns]
        self.at = {name: number for number, name in enumerate(self.names)}
        assert self.names[: len(_SHARED)] == _SHARED, f"{table.name} is not versioned"
        self.own = self.names[len(_SHARED) :]
        """The table's own columns, after the ones every versioned table shares."""
        self.open: dict[str, list[Version]] = {}
        self.finished: list[Version] = []
        """Versions closed by the fold that the table does not hold yet: written as they are."""
        self.stored: set[tuple[str, int, int]] = set()
        """(key, record_from, slice) of the open versions the table already holds."""
        self.ended: list[tuple[Any, ...]] = []
        """(record_to, recorded_to, key, record_from, slice) of stored versions now closed."""
        self.by: dict[str, dict[Any, set[str]]] = {column: {} for column in by}

    # --- reading and loading

    def versions(self, key: str) -> list[Version]:
        """The versions of `key` the record holds now, in valid-time order."""
        return sorted(self.open.get(key, ()), key=_valid_order)

    def _ordered(self, key: str) -> Sequence[Version]:
        """As `versions`, without sorting the one version most keys have."""
        found = self.open.get(key)
        if found is None or len(found) < 2:
            return found or ()
        return sorted(found, key=_valid_order)

    def value(self, version: Version, column: str) -> Any:
        return version[self.at[column]]

    def load(self, versions: Iterable[Version]) -> None:
        """Take open versions the table holds (a live fold loads those its events touch)."""
        for version in versions:
            key = version[_KEY]
            identity = (key, version[_RECORD_FROM], version[_SLICE])
            if identity in self.stored:
                continue
            self.stored.add(identity)
            self._keep(key, version)

    # --- folding

    def open_version(
        self, key: str, values: Mapping[str, Any], event: Stamp, slice: int = 0
    ) -> None:
        """Start a version of `key` from this event on."""
        # One tuple, built at once: the period, the record columns, then the table's own
        # (those `values` does not give: None).
        self._keep(
            key,
            (
                key,
                *map(values.get, _PERIOD),
                event.position,
                slice,
                None,
                event.recorded_at,
                None,
                event.type,
                *map(values.get, self.own),
            ),
        )

    def close(self, key: str, event: Stamp) -> None:
        """From this event on, the record no longer says what the open versions of `key` say."""
        versions = self.open.pop(key, None)
        if not versions:
            return
        stored, ends = self.stored, (event.position, event.recorded_at)
        for version in versions:
            if self.by:
                for column, keys in self.by.items():
                    keys[version[self.at[column]]].discard(key)
            if stored:
                identity = (key, version[_RECORD_FROM], version[_SLICE])
                if identity in stored:
                    stored.discard(identity)
                    self.ended.append((*ends, *identity))
                    continue
            # The version as it was, its record period ended by this event.
            self.finished.append(
                (
                    *version[:_RECORD_TO],
                    ends[0],
                    version[_RECORDED_FROM],
                    ends[1],
                    *version[_RECORDED_TO + 1 :],
                )
            )

    def close_where(self, column: str, value: Any, event: Stamp) -> None:
        """Close every open version whose `column` (one of `by`) is `value`."""
        for key in list(self.by[column].get(value, ())):
            self.close(key, event)

    def revise(self, key: str, changes: Mapping[str, Any], event: Stamp) -> bool:
        """Close the open versions of `key` and open them again with `changes`. False if none
        is open.

        Where earlier changes left several valid-time slices, the latest one is revised and
        the others are carried over as they were.
        """
        versions = self._ordered(key)
        if not versions:
            return False
        self.close(key, event)
        last = len(versions) - 1
        for slice, version in enumerate(versions):
            self._again(version, changes if slice == last else {}, event, slice)
        return True

    def change_from(
        self, key: str, changes: Mapping[str, Any], effective: PartialDate, event: Stamp
    ) -> bool:
        """A change that took effect in the world on `effective`: the latest slice ends there
        and a new one with `changes` starts there."""
        versions = self._ordered(key)
        if not versions:
            return False
        self.close(key, event)
        *earlier, latest = versions
        for slice, version in enumerate(earlier):
            self._again(version, {}, event, slice)
        self._again(latest, _end(effective), event, len(earlier))
        before = {name: latest[self.at[name]] for name in _VALID_TO}
        start = {**changes, **_start(effective, before)}
        self._again(latest, start, event, len(earlier) + 1)
        return True

    # --- what the fold produced

    def written(self) -> list[Version]:
        """Versions to insert: those closed by the fold, and those it opened and left open."""
        stored = self.stored
        opened = [
            version
            for versions in self.open.values()
            for version in versions
            if not stored or (version[_KEY], version[_RECORD_FROM], version[_SLICE]) not in stored
        ]
        return self.finished + opened

    def take_finished(self) -> list[Version]:
        finished, self.finished = self.finished, []
        return finished

    def take_open(self) -> list[Version]:
        """Every open version, forgotten here (a rebuild writes them at its end)."""
        opened = [version for versions in self.open.values() for version in versions]
        self.open, self.by = {}, {column: {} for column in self.by}
        return opened

    # --- inside

    def _again(self, old: Version, changes: Mapping[str, Any], event: Stamp, slice: int) -> None:
        row = list(old)
        at = self.at
        for name, value in changes.items():
            row[at[name]] = value
        self._start(row, event, slice)

    def _start(self, row: list[Any], event: Stamp, slice: int) -> None:
        row[_RECORD_FROM] = event.position
        row[_SLICE] = slice
        row[_RECORD_TO] = None
        row[_RECORDED_FROM] = event.recorded_at
        row[_RECORDED_TO] = None
        row[_EVENT_TYPE] = event.type
        self._keep(row[_KEY], tuple(row))

    def _keep(self, key: str, version: Version) -> None:
        versions = self.open.get(key)
        if versions is None:
            self.open[key] = [version]
        else:
            versions.append(version)
        if self.by:
            for column, keys in self.by.items():
                keys.setdefault(version[self.at[column]], set()).add(key)


def _valid_order(version: Version) -> tuple[Any, Any]:
    return version[_VALID_FROM_LO], version[_SLICE]


_VALID_TO = ("valid_to", "valid_to_lo", "valid_to_hi")


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
