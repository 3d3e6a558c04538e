"""The log moved out of and into databases: exported as NDJSON, imported from it, and
replayed up to a point into a new SQLite file with its projections.

An export holds one event a line with every stored field, so an import can check each
line against the hash chain and write it exactly as the first log recorded it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO
from uuid import UUID

import msgspec
from sqlalchemy.exc import DBAPIError

from events.chain import ChainCheck, timestamp_text
from events.database import create_engine
from events.errors import InvalidAppend
from events.model import Head, RecordedEvent
from events.registry import EventTypes
from events.store import EventStore, appends, continues
from service.migrate import upgrade
from service.operations import FAILED, USAGE, Progress, Refused, check_range, opened, reported
from service.services import Services, build_services
from service.settings import Settings

IMPORT_BATCH = 500
PAGE = 1000

# --- export -------------------------------------------------------------------------------


class ExportedEvent(msgspec.Struct, forbid_unknown_fields=True):
    """One line of an export: every field the log stores, in the order it is written."""

    position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: Annotated[datetime, msgspec.Meta(tz=True)]
    prev_hash: str
    hash: str


_line_decoder = msgspec.json.Decoder(ExportedEvent)


def export_line(event: RecordedEvent) -> str:
    """One event as one NDJSON line (with its newline)."""
    fields = {
        "position": event.position,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": timestamp_text(event.recorded_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    return msgspec.json.encode(fields).decode() + "\n"


async def write_export(
    store: EventStore, out: TextIO, *, after: int = 0, until: int | None = None
) -> int:
    """Write the log (or a range) to `out` page by page; returns the number of events."""
    head = (await store.head()).position
    last = head if until is None else min(until, head)
    progress = Progress("export", max(last - after, 0), terminal_only=True)
    count = 0
    async for event in store.iter_all(after=after, until=until):
        out.write(export_line(event))
        count += 1
        progress.update(count)
    out.flush()
    progress.finish(count)
    return count


@reported
async def export_log(settings: Settings, args: argparse.Namespace) -> int:
    check_range(args.after, args.until)
    async with opened(settings) as services:
        try:
            await write_export(services.store, sys.stdout, after=args.after, until=args.until)
        except BrokenPipeError:
            # The reader stopped early (`coop export | head`); say nothing more to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return FAILED
    return 0


# --- import -------------------------------------------------------------------------------


class LineProblem(Exception):
    def __init__(self, number: int, problem: str) -> None:
        super().__init__(problem)
        self.number = number


def parse_line(line: bytes, number: int) -> RecordedEvent:
    try:
        entry = _line_decoder.decode(line)
    except msgspec.ValidationError as error:
        raise LineProblem(number, f"not an exported event: {error}") from None
    except msgspec.DecodeError as error:
        raise LineProblem(number, f"not valid JSON: {error}") from None
    return RecordedEvent(**msgspec.structs.asdict(entry))


def read_events(path: Path) -> Iterator[tuple[int, RecordedEvent]]:
    """Each event of an export file with its line number; blank lines are passed over."""
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                yield number, parse_line(line, number)


@dataclass(frozen=True)
class Imported:
    count: int
    head: Head


async def import_file(services: Services, path: Path, label: str) -> Imported:
    """Check the whole file against the chain and the catalogue, then write it in batches:
    an altered or malformed file is refused before anything is written."""
    head = await services.store.head()
    count = check_file(path, label, head, services.store.types)
    if count:
        await services.projections.catch_up()
        await _write_batches(services.store, path, label, count)
    return Imported(count, await services.store.head())


def check_file(path: Path, label: str, head: Head, types: EventTypes) -> int:
    check = ChainCheck(head.position, head.hash)
    try:
        for number, event in read_events(path):
            if check.checked == 0:
                _check_follows(head, event, label)
            problem = check.problem(event) or _type_problem(types, event)
            if problem is not None:
                raise LineProblem(number, problem)
    except LineProblem as error:
        raise Refused(f"{label}, line {error.number}: {error}; nothing was imported") from None
    return check.checked


def _check_follows(head: Head, event: RecordedEvent, label: str) -> None:
    if event.position == head.position + 1 and event.prev_hash == head.hash:
        return
    if head.position == 0:
        raise Refused(
            f"{label} starts at position {event.position}, but the database is empty: import"
            " an export that starts at position 1 (made without --after) first"
        )
    raise Refused(
        f"the database already holds positions 1-{head.position} (head hash {head.hash});"
        f" {label} starts at position {event.position} and does not continue them. Import"
        " into an empty database, or import an export of the same log made with"
        f" --after {head.position}"
    )


def _type_problem(types: EventTypes, event: RecordedEvent) -> str | None:
    if event.type not in types:
        return f"position {event.position} has event type {event.type!r}, unknown to this Coop"
    if event.schema_version > types.get(event.type).version:
        return (
            f"position {event.position} is {event.type} v{event.schema_version},"
            " newer than this Coop knows"
        )
    return None


async def _write_batches(store: EventStore, path: Path, label: str, total: int) -> None:
    progress = Progress("import", total, terminal_only=True)
    batch: list[tuple[int, RecordedEvent]] = []
    written = 0
    for number, event in read_events(path):
        # A batch ends between appends, so each append's idempotency key is carried whole.
        if len(batch) >= IMPORT_BATCH and not continues(batch[-1][1], event):
            written += await _write_batch(store, batch, label, written)
            batch = []
            progress.update(written)
        batch.append((number, event))
    if batch:
        written += await _write_batch(store, batch, label, written)
    progress.finish(written)


async def _write_batch(
    store: EventStore, batch: Sequence[tuple[int, RecordedEvent]], label: str, written: int
) -> int:
    try:
        await store.import_events([event for _, event in batch])
    except (InvalidAppend, DBAPIError) as error:
        detail = str(error).splitlines()[0]
        raise Refused(
            f"{label}, lines {batch[0][0]}-{batch[-1][0]}: the database refused them: {detail};"
            f" the {written} events before them were imported and continue the chain"
        ) from None
    return len(batch)


@contextmanager
def readable(name: str) -> Iterator[tuple[Path, str]]:
    """The file to import and how to name it; standard input is first copied to a temporary
    file, since the import reads it twice (check, then write)."""
    if name != "-":
        path = Path(name)
        if not path.is_file():
            raise Refused(f"there is no file {name}", USAGE)
        yield path, name
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stdin.ndjson"
        with path.open("wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
        yield path, "standard input"


@reported
async def import_log(settings: Settings, args: argparse.Namespace) -> int:
    with readable(args.file) as (path, label):
        async with opened(settings) as services:
            done = await import_file(services, path, label)
    if done.count == 0:
        print(f"coop: {label} holds no events; nothing was imported")
        return 0
    first = done.head.position - done.count + 1
    print(
        f"coop: imported {done.count} events (positions {first}-{done.head.position})"
        f" from {label}; the head is position {done.head.position}, hash {done.head.hash}"
    )
    return 0


# --- replay -------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_sqlite(path: Path, types: EventTypes) -> AsyncIterator[Services]:
    """A new, migrated SQLite database at `path` with every projection at position 0."""
    engine = create_engine(f"sqlite:///{path}")
    services = build_services(Settings(database_url=f"sqlite:///{path}"), EventStore(engine, types))
    try:
        await upgrade(engine)
        await services.projections.ensure_checkpoints()
        yield services
    finally:
        await services.close()


async def copy_log(source: EventStore, target: EventStore, until: int) -> int:
    """Import the source log up to `until` into `target` page by page; the import checks
    every event against the chain and folds the target's projections."""
    progress = Progress("replay", until, terminal_only=True)
    after = 0
    while after < until:
        batch = await source.read_all(after=after, until=until, limit=PAGE)
        if not batch:
            break
        runs = appends(batch)
        if len(batch) == PAGE and len(runs) > 1:
            batch = batch[: -len(runs[-1])]  # the last append may go on: read it whole next
        await target.import_events(batch)
        after = batch[-1].position
        progress.update(after)
    progress.finish(after)
    return after


def point(text: str) -> int | datetime:
    """An argparse type: a log position, or an ISO date-time (UTC when it names no offset)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a log position nor an ISO date-time (2021-03-01T09:00:00+09:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def position_of(store: EventStore, until: int | datetime) -> int:
    head = await store.head()
    if isinstance(until, datetime):
        return await store.position_at(until)
    if until > head.position:
        raise Refused(f"the log ends at position {head.position}; it has no {until}", USAGE)
    return until


async def replay_to(source: EventStore, target: Path, until: int) -> Head:
    """Build the log up to `until` with its projections into the new SQLite file `target`,
    written beside it first and moved into place only when complete."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".coop-replay-") as folder:
        building = Path(folder) / target.name
        async with fresh_sqlite(building, source.types) as copy:
            await copy_log(source, copy.store, until)
            head = await copy.store.head()
        _move_into_place(building, target)
    return head


def _move_into_place(building: Path, target: Path) -> None:
    """Leave WAL mode, so the database is one self-contained file to hand over, and move it."""
    connection = sqlite3.connect(building)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    _check_new_file(target)
    os.replace(building, target)


def _check_new_file(target: Path) -> None:
    if target.exists():
        raise Refused(f"{target} already exists; replay writes only a new file", USAGE)
    if not target.parent.is_dir():
        raise Refused(f"there is no folder {target.parent} to write {target.name} in", USAGE)


@reported
async def replay_command(settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.into)
    _check_new_file(target)
    async with opened(settings) as services:
        until = await position_of(services.store, args.until)
        try:
            head = await replay_to(services.store, target, until)
        except InvalidAppend as error:
            raise Refused(f"the log cannot be replayed to position {until}: {error}") from None
    recorded = head.recorded_at.isoformat() if head.recorded_at else "nothing recorded yet"
    print(f"coop: replayed positions 1-{head.position} into {target} (last recorded {recorded})")
    print(f"head hash {head.hash}")
    print(f"serve it with: COOP_READ_ONLY=true COOP_DATABASE_URL=sqlite:///{target} coop serve")
    return 0
