"""The lines of an export, written, read and checked: one event a line with every stored
field, so an import can check each line against the hash chain and write it exactly as the
first log recorded it. The last line is a trailer, `{"trailer": {"count": N, "head_hash":
..., "root_hash": ...}}`: how many events the file holds, the hash of the last, and the
Merkle root of the log up to it. A file cut short, even on a line boundary, has lost its
trailer or no longer matches it.

Nothing here reaches a database: an import into an empty one checks its file in a process
of its own (`service.operations.import_check`) while it writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import msgspec

from events.chain import ChainCheck, canonical_texts, timestamp_text
from events.errors import InvalidAppend
from events.kept import kept_subtrees
from events.merkle import Frontier
from events.model import Head, RecordedEvent, check_stream_id, metadata_problem
from events.rows import id_text, moment_text
from service.operations.refused import Refused

# Events a transaction of the write pass of a log continued, as many as the raw insert it
# is measured against (bench/rebuild.py): each commit rewrites the index pages its random
# keys touched. Into an empty database, the events handed on at once in its one transaction.
IMPORT_BATCH = 5000


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


def export_page(rows: Iterable[Sequence[Any]]) -> str:
    """Rows of the events table as export lines, each as `export_line` spells its event: the
    table's columns in `export_line`'s order (`EXPORTED`), the id and the record time as the
    database gives them as text (SQLite: 32 hexadecimal digits, naive UTC to the microsecond)
    or as values (PostgreSQL)."""
    lines = []
    for (
        position,
        stream_id,
        stream_version,
        event_id,
        type_,
        schema_version,
        data,
        metadata,
        recorded_at,
        prev_hash,
        chain_hash,
    ) in rows:
        fields = {
            "position": position,
            "stream_id": stream_id,
            "stream_version": stream_version,
            "event_id": id_text(event_id),
            "type": type_,
            "schema_version": schema_version,
            # Decoded and spelled again, as `export_line` spells them (and checked as JSON).
            "data": _decode(data),
            "metadata": _decode(metadata),
            "recorded_at": moment_text(recorded_at),
            "prev_hash": prev_hash,
            "hash": chain_hash,
        }
        lines.append(_encode(fields))
    return (b"\n".join(lines) + b"\n").decode() if lines else ""


# The events table's columns an export line holds, in its order: the event's fields.
EXPORTED: tuple[str, ...] = RecordedEvent.__struct_fields__
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


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
    return RecordedEvent(*msgspec.structs.astuple(entry))  # the same fields, in order


def parse_trailer(line: bytes, number: int) -> Trailer:
    try:
        return _trailer_decoder.decode(line).trailer
    except msgspec.DecodeError as error:  # a ValidationError is a DecodeError too
        raise LineProblem(number, f"not a trailer: {error}") from None


def read_items(path: Path) -> Iterator[tuple[int, bytes, RecordedEvent | Trailer]]:
    """Each event (or the trailer) of an export file with its line number and text; blank
    lines are passed over."""
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if line.lstrip().startswith(TRAILER_START):
                yield number, line, parse_trailer(line, number)
            elif line.strip():
                yield number, line, parse_line(line, number)


def stated_count(path: Path) -> int | None:
    """The event count the file's trailer states, read from the file's end without reading
    the rest (None: its last line is no trailer): what an import's progress counts to. Only
    a statement until the whole file is checked against it."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(size - _TAIL, 0))
        tail = file.read().splitlines()
    last = next((line for line in reversed(tail) if line.strip()), b"")
    if not last.lstrip().startswith(TRAILER_START):
        return None
    try:
        count = parse_trailer(last, 0).count
    except LineProblem:
        return None
    return count if count >= 0 else None


_TAIL = 4096  # bytes at the end of a file that hold its trailer line (about 200 of them)


def fingerprint(line: bytes) -> bytes:
    """What tells a line checked from one changed since (not a proof against forgery: the
    chain is that; only the same file read twice is compared)."""
    return hashlib.blake2b(line, digest_size=FINGERPRINT_SIZE).digest()


FINGERPRINT_SIZE = 16


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


def trailer_problem(trailer: Trailer | None, check: ChainCheck, tree: Frontier) -> str | None:
    """What is wrong between the trailer and the events before it (`check` has checked them
    all, `tree` has grown by them), or None."""
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


Payloads = Callable[[str, int, str, str], "str | None"]
"""What is wrong with a payload's text for its type and version, in its stream
(`EventTypes.payload_problem`)."""


def event_problem(
    check: ChainCheck,
    versions: Mapping[str, int],
    event: RecordedEvent,
    texts: tuple[str, str],
    payloads: Payloads,
) -> str | None:
    """What is wrong with the next event of a file (its `canonical_texts` given): its place
    in the chain and its hash, its type, stream id and idempotency key, and its payload by
    `payloads`; or None."""
    problem = check.problem(event, texts=texts) or catalogue_problem(versions, event)
    if problem is None:
        found = payloads(event.type, event.schema_version, texts[0], event.stream_id)
        problem = found and f"position {event.position}: {found}"
    return problem


def catalogue_problem(versions: Mapping[str, int], event: RecordedEvent) -> str | None:
    """What is wrong with an event but its place in the chain and its hash: its type, stream
    id and idempotency key; or None."""
    return _type_problem(versions, event) or _stream_problem(event) or _key_problem(event)


def check_follows(head: Head, event: RecordedEvent, label: str) -> None:
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


def _type_problem(versions: Mapping[str, int], event: RecordedEvent) -> str | None:
    """`versions`: each event type this Coop knows, with its current schema version."""
    known = versions.get(event.type)
    if known is None:
        return f"position {event.position} has event type {event.type!r}, unknown to this Coop"
    if event.schema_version < 1:
        version = event.schema_version
        return f"position {event.position} is {event.type} v{version}: versions start at 1"
    if event.schema_version > known:
        return (
            f"position {event.position} is {event.type} v{event.schema_version},"
            " newer than this Coop knows"
        )
    return None


def _key_problem(event: RecordedEvent) -> str | None:
    """An idempotency key that is not text (an append takes no other; the import carries
    it to the table of keys), or other metadata not as Coop writes it (which the API, the
    history and the browser read: an actor, a reason, a source)."""
    key = event.metadata.get("idempotency_key")
    if key is None or isinstance(key, str):
        found = metadata_problem(event.metadata)
        return found and f"position {event.position}: {found}"
    return f"position {event.position}: its idempotency_key {key!r} is not a text"


def _stream_problem(event: RecordedEvent) -> str | None:
    try:
        check_stream_id(event.stream_id)
    except InvalidAppend as error:
        return f"position {event.position}: {error}"
    return None


def checked_lines(
    path: Path,
    label: str,
    head: Head,
    versions: Mapping[str, int],
    tree: Growing,
    payloads: Payloads,
) -> Iterator[tuple[int, bytes, RecordedEvent, tuple[str, str]]]:
    """Each event of the file with its line number, its line and its `canonical_texts`,
    checked against the chain (continuing `head`), the catalogue (`versions`: each type's
    current schema version), the stream id rules and `payloads`, its hash added to `tree`; then the
    trailer checked against them all. A problem is raised (Refused) naming the line, when
    that line is reached."""
    check = ChainCheck(head.position, head.hash, head.recorded_at)
    trailer: Trailer | None = None
    try:
        for number, line, item in read_items(path):
            if trailer is not None:
                raise LineProblem(number, "the trailer must be the last line; this follows it")
            if isinstance(item, Trailer):
                trailer = item
                continue
            if check.checked == 0:
                check_follows(head, item, label)
            texts = canonical_texts(item)
            problem = event_problem(check, versions, item, texts, payloads)
            if problem is not None:
                raise LineProblem(number, problem)
            tree.add(item.hash)
            yield number, line, item, texts
    except LineProblem as error:
        raise Refused(f"{label}, line {error.number}: {error}; nothing was imported") from None
    problem = trailer_problem(trailer, check, tree.grown())
    if problem is not None:
        raise Refused(f"{label}: {problem}; nothing was imported")
