"""Folds in the database: a rebuild from scratch of a read model whose fold can be said as
one set-based statement over the events table, with no event through Python.

A projector's Python `fold` stays the reference and the only live path; its statement here
is used only by a rebuild (and an import) into empty tables, and only where the log holds
what the statement was written for (the current schema versions, the shapes the domain's
rules allow). tests/projections/test_batched.py holds the two folds to one digest on random
histories, on both engines.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.database import read_transaction
from events.registry import EventTypes


class Dialect:
    """The few expressions SQLite and PostgreSQL spell differently, over the events table's
    `data` (the payload's canonical JSON text)."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"
        # events.dates' EARLIEST and LATEST (`day` spells them as each engine holds them).
        self.earliest, self.latest = "0001-01-01", "9999-12-31"
        self.position = "position BIGINT" if self.postgres else "position INTEGER"

    def day(self, text: str) -> str:
        """A 'YYYY-MM-DD' text as the tables' Date columns hold it (asyncpg writes date.min
        and date.max, whatever date they stand for, as -infinity and infinity)."""
        if self.postgres:
            return (
                f"(CASE ({text}) WHEN '0001-01-01' THEN '-infinity'"
                f" WHEN '9999-12-31' THEN 'infinity' ELSE ({text}) END)::date"
            )
        return text

    def month_end(self, month: str) -> str:
        """The last day of a 'YYYY-MM' month, as 'YYYY-MM-DD' text."""
        if self.postgres:
            end = f"({month} || '-01')::date + interval '1 month' - interval '1 day'"
            return f"to_char({end}, 'YYYY-MM-DD')"
        # December directly: the month after 9999-12 is out of date()'s range.
        return (
            f"CASE WHEN substr({month}, 6, 2) = '12' THEN substr({month}, 1, 4) || '-12-31'"
            f" ELSE date({month} || '-01', '+1 month', '-1 day') END"
        )

    def period_start(self, since: str) -> list[str]:
        """valid_from, valid_from_lo, valid_from_hi for a partial date's text ('unknown' or
        NULL: an unknown start), as projections.versions.valid_period gives them."""
        unknown = f"{since} IS NULL OR {since} = 'unknown'"
        return [
            f"CASE WHEN {unknown} THEN NULL ELSE {since} END",
            self.day(f"CASE WHEN {unknown} THEN '{self.earliest}' ELSE {self.first(since)} END"),
            self.day(f"CASE WHEN {unknown} THEN '{self.latest}' ELSE {self.last(since)} END"),
        ]

    def period_end(self, until: str) -> list[str]:
        """valid_to, valid_to_lo, valid_to_hi for a partial date's text or NULL (still holds)."""
        return [
            until,
            self.day(
                f"CASE WHEN {until} IS NULL THEN '{self.latest}'"
                f" WHEN {until} = 'unknown' THEN '{self.earliest}' ELSE {self.first(until)} END"
            ),
            self.day(
                f"CASE WHEN {until} IS NULL OR {until} = 'unknown' THEN '{self.latest}'"
                f" ELSE {self.last(until)} END"
            ),
        ]

    def first(self, date: str) -> str:
        return (
            f"CASE length({date}) WHEN 4 THEN {date} || '-01-01'"
            f" WHEN 7 THEN {date} || '-01' ELSE {date} END"
        )

    def last(self, date: str) -> str:
        return (
            f"CASE length({date}) WHEN 4 THEN {date} || '-12-31'"
            f" WHEN 7 THEN {self.month_end(date)} ELSE {date} END"
        )


@contextlib.asynccontextmanager
async def extracted(
    connection: AsyncConnection,
    name: str,
    types: Sequence[str],
    until: int,
    fields: Mapping[str, tuple[str, str]],
) -> AsyncIterator[str]:
    """A temporary table `name` of the events of `types` up to `until`: position (its
    primary key), type, schema_version, recorded_at, and `fields` (column: (payload field, "text" or
    "json")), each payload parsed once; dropped after the block (or rolled back with the
    caller's transaction)."""
    sql = dialect_of(connection)
    if sql.postgres:
        # Quoted: a payload field may be a reserved word (an activity's `on`).
        spec = ", ".join(f'"{field}" {kind}' for field, kind in fields.values())
        source = f"events, json_to_record(events.data::json) AS j({spec})"
        values = [
            f'j."{field}"{"::text" if kind == "json" else ""}' for field, kind in fields.values()
        ]
    else:
        source = "events"
        values = [f"json_extract(data, '$.{field}')" for field, _ in fields.values()]
    made = ", ".join(f"{column} TEXT" for column in fields)
    await connection.exec_driver_sql(
        # On SQLite, INTEGER PRIMARY KEY is the row id: looked up by position without an index.
        f"CREATE TEMPORARY TABLE {name} ({sql.position} PRIMARY KEY, type TEXT,"
        " schema_version INTEGER,"
        f" recorded_at {'TIMESTAMPTZ' if sql.postgres else 'TEXT'}, {made})"
    )
    wanted = f"events.type IN ({quoted(types)}) AND events.position <= {int(until)}"
    if not sql.postgres and await _much_of_the_log(connection, wanted):
        # The type index takes the table a type at a time, out of position order: where
        # the events wanted are much of the table, one pass over it is faster ("+": no index).
        wanted = f"+events.type IN ({quoted(types)}) AND +events.position <= {int(until)}"
    await connection.exec_driver_sql(
        f"INSERT INTO {name} SELECT events.position, events.type, events.schema_version,"
        f" events.recorded_at, {', '.join(values)} FROM {source} WHERE {wanted}"
    )
    if sql.postgres:
        # Row counts and a rough sample are all the statements' plans need: a tenth of the
        # default sample is read in a tenth of the time (0.03 against 0.3 s at 700,000 rows).
        await connection.exec_driver_sql("SET LOCAL default_statistics_target = 10")
        await connection.exec_driver_sql(f"ANALYZE {name}")
        await connection.exec_driver_sql("RESET default_statistics_target")
    yield name
    # Not on a failure: the transaction is rolled back, the table with it, and on PostgreSQL
    # a statement in the failed transaction would put its own error in the first's place.
    await connection.exec_driver_sql(f"DROP TABLE {name}")


async def _much_of_the_log(connection: AsyncConnection, wanted: str) -> bool:
    """Whether the events `wanted` (a condition) are more than `_SCANNED` of the events table
    (counted from its indexes alone)."""
    found = await connection.exec_driver_sql(
        f"SELECT (SELECT count(*) FROM events WHERE {wanted}), (SELECT max(position) FROM events)"
    )
    held, last = tuple(found.one())
    return int(held) > int(last or 0) * _SCANNED


_SCANNED = 0.25


def dialect_of(connection: AsyncConnection) -> Dialect:
    return Dialect(connection.dialect.name)


def quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


async def current_versions_only(
    connection: AsyncConnection, types: EventTypes, names: Sequence[str], log: str
) -> bool:
    """Whether every event of these types in `log` (an `extracted` table) is at its type's
    current schema version (a statement reads the payload as it is, with no upcaster)."""
    versions: Mapping[str, int] = {name: types.get(name).version for name in names}
    older = " OR ".join(
        f"(type = '{name}' AND schema_version <> {version})" for name, version in versions.items()
    )
    found = await connection.exec_driver_sql(f"SELECT 1 FROM {log} WHERE {older} LIMIT 1")
    return found.first() is None


def columns(table: Table) -> str:
    return ", ".join(f'"{column.name}"' for column in table.columns)


async def started_once(connection: AsyncConnection, events: str, started: str) -> bool:
    """Whether no key of `events` (a query of key, position, type, recorded_at rows) starts
    twice: the statements of `versions` are written for one start a key, as the rules give."""
    twice = (
        f"SELECT key FROM ({events}) e WHERE type = '{started}' GROUP BY key HAVING count(*) > 1"
    )
    return (await connection.exec_driver_sql(twice)).first() is None


def versions(
    sql: Dialect,
    events: str,
    log: str,
    *,
    started: str,
    sets: Sequence[str],
    dated: Sequence[str],
    ends: Sequence[str],
    retracted: str | None,
    own: Sequence[str],
    latest: Mapping[str, str] | None = None,
    until: str = "u.until",
) -> str:
    """A SELECT of the row versions, in a versioned table's column order, that `Rows` gives
    for keyed records folded thus: `started` opens a key's one version; each later event of
    the key but `retracted` closes it and opens the next, whose values come from the last of
    `sets` so far, its start from that event's `since` if it is one of `dated` (else
    unknown), its end from the `until` of the last of `ends` since the start (none: open);
    `retracted` closes it for good, and later events pass by (as do those before the
    start). Each field is read only from the types that have it, as the Python fold does.

    `events`: a query of (key, position, type, recorded_at), every event of every key;
    `log`: a table of the events by position with their `since`, `until` and values;
    `own`: the table's own columns, each an expression over `s` (the key's start) or `f`
    (the event that set the values), or over an alias of `latest` (alias: type), the last
    event of that type since the start (NULL before the first);
    `until`: the valid end's partial date text, the last of `ends`' unless said otherwise
    (an expression over the aliases as `own`'s).
    """
    latest = {**(latest or {}), "u": "', '".join(ends)}
    # A record that cannot be retracted: a type no event has.
    retracted = retracted or ""
    lasts = "".join(
        f",\n    max(CASE WHEN type IN ('{kinds}') THEN position END) OVER w AS {alias}_at"
        for alias, kinds in latest.items()
    )
    joins = "".join(
        f"\nLEFT JOIN {log} {alias} ON {alias}.position = p.{alias}_at"
        f" AND p.{alias}_at > p.start_at"
        for alias in latest
    )
    # `f` is of one of `sets`: where each of them is dated, its `since` is the start.
    if not dated:
        since = "NULL"
    elif set(sets) <= set(dated):
        since = "f.since"
    else:
        since = f"CASE WHEN f.type IN ({quoted(dated)}) THEN f.since END"
    # One pass of window functions over narrow rows, by key in log order: where the record
    # period ends (the key's next event), which start the event follows, which event set the
    # values and start it carries, which the end, and the last retraction so far; then the
    # wide values looked up by position (the event's own type and record time are in the
    # narrow row).
    return f"""
WITH p AS (
  SELECT key, position, type, recorded_at,
    lead(position) OVER w AS record_to,
    lead(recorded_at) OVER w AS recorded_to,
    max(CASE WHEN type = '{started}' THEN position END) OVER w AS start_at,
    max(CASE WHEN type IN ({quoted(sets)}) THEN position END) OVER w AS set_at,
    max(CASE WHEN type = '{retracted}' THEN position END) OVER w AS retracted_at{lasts}
  FROM ({events}) e WINDOW w AS (PARTITION BY key ORDER BY position)
)
SELECT p.key, {", ".join(sql.period_start(since))}, {", ".join(sql.period_end(until))},
  p.position, 0, p.record_to, p.recorded_at, p.recorded_to, p.type, {", ".join(own)}
FROM p
JOIN {log} f ON f.position = p.set_at
JOIN {log} s ON s.position = p.start_at{joins}
WHERE p.type <> '{retracted}' AND (p.retracted_at IS NULL OR p.retracted_at < p.start_at)"""


@dataclass(frozen=True)
class Records:
    """One versioned table as `versions` folds it: `events` a query over the projector's
    temporary table (given as `{log}`), the rest as `versions` takes them."""

    table: Table
    events: str
    started: str
    sets: Sequence[str]
    dated: Sequence[str]
    ends: Sequence[str]
    retracted: str | None
    own: Sequence[str]
    latest: Mapping[str, str] = field(default_factory=dict)
    until: str = "u.until"
    select: Callable[[Dialect, str, str], str] | None = None
    """A statement of its own in place of `versions`' (given the dialect, `events` and the
    log table), such as `sliced_versions`."""


async def fold_records(
    connection: AsyncConnection,
    types: EventTypes,
    handled: frozenset[str],
    until: int,
    fields: Mapping[str, tuple[str, str]],
    records: Sequence[Records],
) -> bool:
    """A projector's `fold_in_database` by `versions`: its events up to `until` parsed once
    into a temporary table of `fields`, each of `records` written by one INSERT ... SELECT.
    False, with nothing written, where an event is at an older schema version or a key
    starts twice (the statements are written for the log the rules give).

    On PostgreSQL all in one transaction. SQLite has one writer at a time: there the log is
    read and folded into temporary tables in a transaction that takes no write lock, and
    only their copy into the tables takes it, so live appends wait for the copy alone."""
    if dialect_of(connection).postgres:
        async with connection.begin():
            return await _folded(connection, types, handled, until, fields, records, None)
    built = [f"{record.table.name}_built" for record in records]
    try:
        async with read_transaction(connection):
            if not await _folded(connection, types, handled, until, fields, records, built):
                return False
        async with connection.begin():
            for record, name in zip(records, built, strict=True):
                # By place, as the select made them: its columns need not bear the names.
                await connection.exec_driver_sql(
                    f'INSERT INTO "{record.table.name}" ({columns(record.table)})'
                    f" SELECT * FROM temp.{name}"
                )
    finally:
        async with read_transaction(connection):
            for name in built:
                await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    return True


async def _folded(
    connection: AsyncConnection,
    types: EventTypes,
    handled: frozenset[str],
    until: int,
    fields: Mapping[str, tuple[str, str]],
    records: Sequence[Records],
    into: Sequence[str] | None,
) -> bool:
    """`fold_records`' statements, in the caller's transaction: each record's versions
    inserted into its table, or (with `into`) made into temporary tables of those names."""
    names = sorted(handled)
    sql = dialect_of(connection)
    name = f"{records[0].table.name}_log"
    async with extracted(connection, name, names, until, fields) as log:
        if not await current_versions_only(connection, types, names, log):
            return False
        queries = [record.events.format(log=log) for record in records]
        for record, events in zip(records, queries, strict=True):
            if not await started_once(connection, events, record.started):
                return False
        for number, (record, events) in enumerate(zip(records, queries, strict=True)):
            select = record.select(sql, events, log) if record.select else ""
            select = select or versions(
                sql,
                events,
                log,
                started=record.started,
                sets=record.sets,
                dated=record.dated,
                ends=record.ends,
                retracted=record.retracted,
                own=record.own,
                latest=record.latest,
                until=record.until,
            )
            if into is None:
                target = f'INSERT INTO "{record.table.name}" ({columns(record.table)})'
            else:
                target = f"CREATE TEMPORARY TABLE {into[number]} AS"
            await connection.exec_driver_sql(f"{target} {select}")
    return True


def sliced_versions(
    sql: Dialect,
    events: str,
    log: str,
    *,
    started: str,
    changed: str,
    retracted: str,
    own: Sequence[str],
) -> str:
    """A SELECT of the row versions, in a versioned table's column order, that `Rows` gives
    for keyed records whose changes split valid time: `started` opens a key's one slice
    (its valid time unknown to open); an event of `changed` with a `since` (a date, perhaps
    'unknown') is `Rows.change_from`: the latest slice ends on that date and a new one with
    the event's values starts there, until where the latest ended; any other event but
    `retracted` is `Rows.revise`: the latest slice takes its values; `retracted` closes the
    key for good, and later events pass by (as do those before the start). Each event
    closes every open version of its key and opens them again, so a key's versions are its
    events by its slices so far.

    `events`: a query of (key, position, type, recorded_at), every event of every key;
    `log`: a table of the events by position with their `since` and values;
    `own`: the table's own columns, each an expression over `f` (the event that set the
    slice's values).

    `Rows` orders a key's slices by the first day each may start and, among those, by when
    they were opened (a change dated before the latest slice's start comes before it and
    leaves it the latest): that order is fixed from a slice's start on, so a slice's rank in
    it (`ord`) says which slice is the latest before each event (the greatest opened
    before it). The latest slice's end is open but after a change dated before its start
    (out of order), which ends it there: so a new slice ends where the last such change
    before it said, or is open. A slice's end changes only when a change ends it (being
    the latest), its values only when a revision reaches it; at each event the slices are
    numbered in their order, the one the event opens last.
    """
    opens = f"l.type = '{started}' OR (l.type = '{changed}' AND l.since IS NOT NULL)"
    first = (
        f"CASE WHEN l.type = '{started}' OR l.since = 'unknown' THEN '{sql.earliest}'"
        f" ELSE {sql.first('l.since')} END"
    )
    before = "PARTITION BY key ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    since = f"CASE WHEN c.type = '{changed}' THEN c.since END"
    until = "CASE WHEN v.end_at IS NOT NULL THEN e.since ELSE b.since END"
    # By key in log order: where each record period ends, the events from the start to the
    # retraction, each slice's rank, the latest slice before each event and the last change
    # out of order before it; then each event by each slice opened so far, with the event
    # that last set the slice's values and the one that last ended it (a key with one slice
    # by itself: each of its events sets the values, none ends it; SQLite would otherwise
    # join every event of every key with every slice by a nested scan).
    return f"""
WITH p AS (
  SELECT key, position, type,
    lead(position) OVER w AS record_to,
    lead(recorded_at) OVER w AS recorded_to,
    max(CASE WHEN type = '{started}' THEN position END) OVER w AS start_at,
    max(CASE WHEN type = '{retracted}' THEN position END) OVER w AS retracted_at
  FROM ({events}) e WINDOW w AS (PARTITION BY key ORDER BY position)
), q AS (
  SELECT p.key, p.position, p.record_to, p.recorded_to, p.start_at,
    CASE WHEN {opens} THEN 1 ELSE 0 END AS opens,
    CASE WHEN {opens} THEN row_number() OVER (
      PARTITION BY p.key, CASE WHEN {opens} THEN 1 ELSE 0 END ORDER BY {sql.day(first)}, p.position
    ) END AS ord
  FROM p JOIN {log} l ON l.position = p.position
  WHERE p.start_at IS NOT NULL AND p.type <> '{retracted}'
    AND (p.retracted_at IS NULL OR p.retracted_at < p.start_at)
), h AS (
  SELECT q.*, max(ord) OVER b AS prior, max(ord) OVER (PARTITION BY key) AS slices
  FROM q WINDOW b AS ({before})
), k AS (
  SELECT h.*, max(CASE WHEN ord < prior THEN position END) OVER b AS behind_at
  FROM h WINDOW b AS ({before})
), m AS (
  SELECT * FROM k WHERE slices > 1
), v AS (
  SELECT t.key, t.position, t.record_to, t.recorded_to, s.position AS opened_at,
    s.behind_at,
    max(CASE WHEN t.position = s.position OR (t.opens = 0 AND t.prior = s.ord)
      THEN t.position END) OVER z AS set_at,
    max(CASE WHEN t.opens = 1 AND t.prior = s.ord THEN t.position END) OVER z AS end_at,
    row_number() OVER (PARTITION BY t.position
      ORDER BY CASE WHEN t.position = s.position THEN 1 ELSE 0 END, s.ord) - 1 AS slice
  FROM m t JOIN m s ON s.key = t.key AND s.opens = 1 AND s.position <= t.position
  WINDOW z AS (PARTITION BY s.position ORDER BY t.position)
  UNION ALL
  SELECT key, position, record_to, recorded_to, start_at, NULL, position, NULL, 0
  FROM k WHERE slices = 1
)
SELECT v.key, {", ".join(sql.period_start(since))}, {", ".join(sql.period_end(until))},
  v.position, v.slice, v.record_to, r.recorded_at, v.recorded_to, r.type, {", ".join(own)}
FROM v
JOIN {log} r ON r.position = v.position
JOIN {log} c ON c.position = v.opened_at
JOIN {log} f ON f.position = v.set_at
LEFT JOIN {log} e ON e.position = v.end_at
LEFT JOIN {log} b ON b.position = v.behind_at"""
