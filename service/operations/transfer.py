"""The log moved out of and into databases: exported as NDJSON and imported from it.

An export holds one event a line with every stored field, so an import can check each
line against the hash chain and write it exactly as the first log recorded it. Its last
line is a trailer, `{"trailer": {"count": N, "head_hash": ..., "root_hash": ...}}`: how
many events the file holds, the hash of the last, and the Merkle root of the log up to it.
A file cut short, even on a line boundary, has lost its trailer or no longer matches it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO
from uuid import UUID

import msgspec
from sqlalchemy.exc import DBAPIError

from events.chain import GENESIS_HASH, ChainCheck, timestamp_text
from events.errors import InvalidAppend
from events.merkle import Frontier
from events.model import Head, RecordedEvent, check_stream_id
from events.registry import EventTypes
from events.store import EventStore, continues
from events.tree import kept_subtrees, load_frontier, root_at, tree_head
from service.operations.database import Refused
from service.operations.progress import Progress, silent
from service.services import Services

# Events a transaction of the write pass of a log continued, as many as the raw insert it
# is measured against (bench/rebuild.py): each commit rewrites the index pages its random
# keys touched. Into an empty database, the events handed on at once in its one transaction.
IMPORT_BATCH = 5000

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


class Trailer(msgspec.Struct, forbid_unknown_fields=True):
    """The last line of an export: its event count, last hash, and the log's root there."""

    count: int
    head_hash: str
    root_hash: str


class TrailerLine(msgspec.Struct, forbid_unknown_fields=True):
    trailer: Trailer


_line_decoder = msgspec.json.Decoder(ExportedEvent)
_trailer_decoder = msgspec.json.Decoder(TrailerLine)
TRAILER_START = b'{"trailer"'


def trailer_line(trailer: Trailer) -> str:
    return msgspec.json.encode(TrailerLine(trailer)).decode() + "\n"


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
    """Write the log (or a range) to `out` page by page, then the trailer; returns the number
    of events."""
    head = (await store.head()).position
    total = max((head if until is None else min(until, head)) - after, 0)
    count, last = 0, None
    async for event in store.iter_all(after=after, until=until):
        out.write(export_line(event))
        count += 1
        last = event
        progress(count, total)
    async with store.engine.connect() as connection:
        if last is None:
            size = min(after, head)
            root, head_hash = await tree_head(connection, size)
        else:
            root, head_hash = await root_at(connection, last.position), last.hash
    out.write(trailer_line(Trailer(count, head_hash, root.hex())))
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


def parse_trailer(line: bytes, number: int) -> Trailer:
    try:
        return _trailer_decoder.decode(line).trailer
    except msgspec.DecodeError as error:  # a ValidationError is a DecodeError too
        raise LineProblem(number, f"not a trailer: {error}") from None


def read_lines(path: Path) -> Iterator[tuple[int, RecordedEvent | Trailer]]:
    """Each event (or the trailer) of an export file with its line number; blank lines are
    passed over."""
    for number, _, item in _read_lines(path):
        yield number, item


def _read_lines(path: Path) -> Iterator[tuple[int, bytes, RecordedEvent | Trailer]]:
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if line.lstrip().startswith(TRAILER_START):
                yield number, line, parse_trailer(line, number)
            elif line.strip():
                yield number, line, parse_line(line, number)


def read_events(path: Path) -> Iterator[tuple[int, RecordedEvent]]:
    """Each event of an export file with its line number."""
    for number, item in read_lines(path):
        if isinstance(item, RecordedEvent):
            yield number, item


def fingerprint(line: bytes) -> bytes:
    """What tells a line checked from one changed since (not a proof against forgery: the
    chain is that; only the same file read twice is compared)."""
    return hashlib.blake2b(line, digest_size=_FINGERPRINT).digest()


_FINGERPRINT = 16


@dataclass(frozen=True)
class Checked:
    """A file checked against the chain: its event count, each event line's fingerprint in
    order, so the write pass takes exactly the lines checked without hashing them again, and
    the Merkle tree's `subtrees` column of the events that hold any (one in 16), by position,
    grown as the root was checked."""

    count: int
    fingerprints: bytes
    subtrees: dict[int, bytes]


@dataclass(frozen=True)
class Imported:
    count: int
    head: Head


async def import_file(
    services: Services,
    path: Path,
    label: str,
    progress: Progress = silent,
    folding: Progress = silent,
) -> Imported:
    """Import an export, all or nothing: an altered or malformed file, or one the database
    refuses, imports nothing.

    Into an empty database the file is read once, each line checked as it is read and
    written in one transaction that the first problem rolls back; then the log is folded
    into every read model as a rebuild folds it (`folding` reports it). A log continued is
    checked whole first, then written in batches, each folded as it is written."""
    head = await services.store.head()
    await services.projections.catch_up()
    if head.position == 0:
        async with services.projections.deferred(lambda done, total, _: folding(done, total)):
            count = await _import_whole(services.store, path, label, progress)
        return Imported(count, await services.store.head())
    async with services.engine.connect() as connection:
        frontier = await load_frontier(connection, head.position)
    checked = check_file(path, label, head, services.store.types, frontier)
    if checked.count:
        await _write_batches(services.store, path, label, checked, progress)
    return Imported(checked.count, await services.store.head())


def check_file(
    path: Path, label: str, head: Head, types: EventTypes, frontier: Frontier
) -> Checked:
    """Check every line against the chain (continuing `head`) and the catalogue, and the
    trailer against what the lines hold; returns the number of events and their lines'
    fingerprints."""
    tree = Growing(frontier.copy())
    fingerprints = bytearray()
    count = 0
    for _, line, _ in checked_lines(path, label, head, types, tree):
        fingerprints += fingerprint(line)
        count += 1
    return Checked(count, bytes(fingerprints), tree.subtrees)


def checked_lines(
    path: Path, label: str, head: Head, types: EventTypes, tree: Growing
) -> Iterator[tuple[int, bytes, RecordedEvent]]:
    """Each event of the file with its line number and text, checked against the chain
    (continuing `head`), the catalogue and the stream id rules, its hash added to `tree`;
    then the trailer checked against them all. A problem is raised (Refused) naming the
    line, when that line is reached."""
    check = ChainCheck(head.position, head.hash)
    trailer: Trailer | None = None
    try:
        for number, line, item in _read_lines(path):
            if trailer is not None:
                raise LineProblem(number, "the trailer must be the last line; this follows it")
            if isinstance(item, Trailer):
                trailer = item
                continue
            if check.checked == 0:
                _check_follows(head, item, label)
            problem = check.problem(item) or _type_problem(types, item) or _stream_problem(item)
            if problem is not None:
                raise LineProblem(number, problem)
            tree.add(item.hash)
            yield number, line, item
    except LineProblem as error:
        raise Refused(f"{label}, line {error.number}: {error}; nothing was imported") from None
    problem = _trailer_problem(trailer, check, tree.grown())
    if problem is not None:
        raise Refused(f"{label}: {problem}; nothing was imported")


async def _import_whole(store: EventStore, path: Path, label: str, progress: Progress) -> int:
    """Read, check and write the file in one pass, in one transaction (into an empty log)."""
    reading = OnePass(path, label, store.types, progress)
    try:
        count = await store.import_log(reading.chunks())
    except (InvalidAppend, DBAPIError) as error:
        raise Refused(f"{reading.refused()}: {_first_line(error)}; nothing was imported") from None
    progress(count, count)
    return count


class OnePass:
    """An export read once into an empty log: its events checked as they are read and
    handed on in chunks that end between appends, each with the Merkle `subtrees` column
    grown for it; how far it has got says what the database refused."""

    def __init__(self, path: Path, label: str, types: EventTypes, progress: Progress) -> None:
        self.path, self.label, self.types, self.progress = path, label, types, progress
        self.size = max(path.stat().st_size, 1)
        self.read = self.handed = 0
        self.lines: tuple[int, int] | None = None  # of the chunk handed on last
        self.finished = False

    def chunks(self) -> Iterator[tuple[list[RecordedEvent], list[bytes | None]]]:
        tree = Growing(Frontier())
        batch: list[tuple[int, RecordedEvent]] = []
        empty = Head(0, GENESIS_HASH, None)
        for number, line, event in checked_lines(self.path, self.label, empty, self.types, tree):
            self.read += len(line)
            if len(batch) >= IMPORT_BATCH and not continues(batch[-1][1], event):
                yield self._handed(batch, tree)
                batch = []
            batch.append((number, event))
        if batch:
            yield self._handed(batch, tree)
        self.finished = True

    def _handed(
        self, batch: list[tuple[int, RecordedEvent]], tree: Growing
    ) -> tuple[list[RecordedEvent], list[bytes | None]]:
        self.progress(self.handed, round(self.handed * self.size / self.read))
        tree.grown()
        events = [event for _, event in batch]
        self.lines, self.handed = (batch[0][0], batch[-1][0]), self.handed + len(events)
        return events, [tree.subtrees.pop(event.position, None) for event in events]

    def refused(self) -> str:
        """Where the database refused the import, and that it did."""
        if self.lines is None:
            return f"{self.label}: the database refused it"
        if self.finished:  # as the indexes were made, after the last line was written
            return (
                f"{self.label}: the database refused the log (two events share an event_id,"
                " or a stream_id and stream_version)"
            )
        first, last = self.lines
        return f"{self.label}, lines {first}-{last}: the database refused them"


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


class Growing:
    """The Merkle tree grown by a file's events, a run of chain hashes at a time, keeping
    the `subtrees` column of each event that holds any (as the store would write it)."""

    RUN = 4096

    def __init__(self, frontier: Frontier) -> None:
        self.frontier = frontier
        self.subtrees: dict[int, bytes] = {}
        self._hashes: list[str] = []

    def add(self, chain_hash: str) -> None:
        self._hashes.append(chain_hash)
        if len(self._hashes) >= self.RUN:
            self.grown()

    def grown(self) -> Frontier:
        """The frontier with every hash added so far."""
        first = self.frontier.size + 1
        for offset, held in enumerate(kept_subtrees(self.frontier, self._hashes)):
            if held is not None:
                self.subtrees[first + offset] = held
        self._hashes = []
        return self.frontier


def _trailer_problem(trailer: Trailer | None, check: ChainCheck, tree: Frontier) -> str | None:
    """What is wrong between the trailer and the events before it, or None."""
    if trailer is None:
        return "the trailer line is missing: the export was cut short (or is not an export)"
    if trailer.count != check.checked:
        return (
            f"the trailer counts {trailer.count} events but the file holds {check.checked}:"
            " events were cut from it (or added)"
        )
    if trailer.head_hash != check.prev_hash:
        return (
            f"the trailer's head_hash {trailer.head_hash} is not the hash of the file's last"
            f" event, position {check.position} ({check.prev_hash})"
        )
    root = tree.root().hex()
    if trailer.root_hash != root:
        return (
            f"the trailer's root_hash {trailer.root_hash} is not the Merkle root of positions"
            f" 1-{check.position} ({root})"
        )
    return None


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


def _stream_problem(event: RecordedEvent) -> str | None:
    try:
        check_stream_id(event.stream_id)
    except InvalidAppend as error:
        return f"position {event.position}: {error}"
    return None


async def _write_batches(
    store: EventStore, path: Path, label: str, checked: Checked, progress: Progress
) -> None:
    """Write the lines the check pass checked, in batches; a line that is not the one
    checked (the file changed in between) stops the import before its batch is written."""
    batch: list[tuple[int, RecordedEvent]] = []
    written, seen, total = 0, 0, checked.count
    for number, line, event in _read_lines(path):
        if not isinstance(event, RecordedEvent):
            continue
        at = seen * _FINGERPRINT
        if seen >= total or checked.fingerprints[at : at + _FINGERPRINT] != fingerprint(line):
            raise Refused(
                f"{label}, line {number}: the file changed after it was checked; the"
                f" {written} events before this batch were imported and continue the chain"
            )
        seen += 1
        # A batch ends between appends, so each append's idempotency key is carried whole.
        if len(batch) >= IMPORT_BATCH and not continues(batch[-1][1], event):
            written += await _write_batch(store, batch, checked.subtrees, label, written)
            batch = []
            progress(written, total)
        batch.append((number, event))
    if batch:
        written += await _write_batch(store, batch, checked.subtrees, label, written)
    progress(written, total)


async def _write_batch(
    store: EventStore,
    batch: Sequence[tuple[int, RecordedEvent]],
    subtrees: dict[int, bytes],
    label: str,
    written: int,
) -> int:
    try:
        # The check pass recomputed every hash from these same lines.
        events = [event for _, event in batch]
        kept = [subtrees.get(event.position) for event in events]
        await store.import_events(events, hashes_checked=True, subtrees=kept)
    except (InvalidAppend, DBAPIError) as error:
        detail = str(error).splitlines()[0]
        raise Refused(
            f"{label}, lines {batch[0][0]}-{batch[-1][0]}: the database refused them: {detail};"
            f" the {written} events before them were imported and continue the chain"
        ) from None
    return len(batch)
