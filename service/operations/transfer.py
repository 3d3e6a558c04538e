"""The log moved out of and into databases: exported as NDJSON and imported from it.

An export holds one event a line with every stored field, so an import can check each
line against the hash chain and write it exactly as the first log recorded it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO
from uuid import UUID

import msgspec
from sqlalchemy.exc import DBAPIError

from events.chain import ChainCheck, timestamp_text
from events.errors import InvalidAppend
from events.model import Head, RecordedEvent
from events.registry import EventTypes
from events.store import EventStore, continues
from service.operations.database import Refused
from service.operations.progress import Progress, silent
from service.services import Services

IMPORT_BATCH = 500

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
    store: EventStore,
    out: TextIO,
    *,
    after: int = 0,
    until: int | None = None,
    progress: Progress = silent,
) -> int:
    """Write the log (or a range) to `out` page by page; returns the number of events."""
    head = (await store.head()).position
    total = max((head if until is None else min(until, head)) - after, 0)
    count = 0
    async for event in store.iter_all(after=after, until=until):
        out.write(export_line(event))
        count += 1
        progress(count, total)
    out.flush()
    return count


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


async def import_file(
    services: Services, path: Path, label: str, progress: Progress = silent
) -> Imported:
    """Check the whole file against the chain and the catalogue, then write it in batches:
    an altered or malformed file is refused before anything is written."""
    head = await services.store.head()
    count = check_file(path, label, head, services.store.types)
    if count:
        await services.projections.catch_up()
        await _write_batches(services.store, path, label, count, progress)
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


async def _write_batches(
    store: EventStore, path: Path, label: str, total: int, progress: Progress
) -> None:
    batch: list[tuple[int, RecordedEvent]] = []
    written = 0
    for number, event in read_events(path):
        # A batch ends between appends, so each append's idempotency key is carried whole.
        if len(batch) >= IMPORT_BATCH and not continues(batch[-1][1], event):
            written += await _write_batch(store, batch, label, written)
            batch = []
            progress(written, total)
        batch.append((number, event))
    if batch:
        written += await _write_batch(store, batch, label, written)
    progress(written, total)


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
