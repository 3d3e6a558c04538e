"""The log moved out of and into databases: exported as NDJSON and imported from it.

An export holds one event a line with every stored field, so an import can check each
line against the hash chain and write it exactly as the first log recorded it. Its last
line is a trailer, `{"trailer": {"count": N, "head_hash": ..., "root_hash": ...}}`: how
many events the file holds, the hash of the last, and the Merkle root of the log up to it.
A file cut short, even on a line boundary, has lost its trailer or no longer matches it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import String, select, type_coerce
from sqlalchemy.exc import DBAPIError

from events.backends import backend_of
from events.errors import InvalidAppend
from events.merkle import Frontier
from events.model import Head, RecordedEvent
from events.rows import may_cut
from events.store import EventStore
from events.tables import events
from events.tree import load_frontier, root_at, tree_head
from service.operations.checks import Chunk
from service.operations.database import check_within
from service.operations.export_lines import (
    EXPORTED,
    FINGERPRINT_SIZE,
    IMPORT_BATCH,
    Growing,
    Payloads,
    Trailer,
    checked_lines,
    export_page,
    fingerprint,
    read_items,
    stated_count,
    trailer_line,
)
from service.operations.import_check import checking
from service.operations.progress import Progress, silent
from service.operations.refused import Refused
from service.services import Services

# --- export -------------------------------------------------------------------------------

_PAGE = 5000  # events an export reads at once


async def write_export(
    store: EventStore,
    out: TextIO,
    *,
    after: int = 0,
    until: int | None = None,
    progress: Progress = silent,
) -> int:
    """Write the log (or a range) to `out` page by page, then the trailer; returns the number
    of events. Refused, with nothing written, where the range reaches past the head."""
    head = (await store.head()).position
    check_within(head, after, until)
    total = max((head if until is None else min(until, head)) - after, 0)
    # Rows, not events: the id and time as the database gives them, spelled once.
    columns = [
        type_coerce(events.c[name], String)
        if name in ("event_id", "recorded_at")
        else events.c[name]
        for name in EXPORTED
    ]
    count, last, position = 0, None, after
    while True:
        page = select(*columns).where(events.c.position > position)
        if until is not None:
            page = page.where(events.c.position <= until)
        async with store.engine.connect() as connection:
            rows = (await connection.execute(page.order_by(events.c.position).limit(_PAGE))).all()
        if not rows:
            break
        out.write(export_page(rows))
        count, last = count + len(rows), rows[-1]
        position = last.position
        progress(count, max(total, count))
        if len(rows) < _PAGE:  # the end of the log (or of the range) as it stood
            break
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
    checking: Progress = silent,
) -> Imported:
    """Import an export, all or nothing: an altered or malformed file, or one the database
    refuses, imports nothing.

    Into an empty database the file is read once, each line checked as it is read and
    written in one transaction that the first problem rolls back; then the log is folded
    into every read model as a rebuild folds it (`folding` reports it). A log continued is
    checked whole first (`checking` reports it), then written in batches, each folded as it
    is written. Progress counts to the trailer's count (an estimate where it has none)."""
    head = await services.store.head()
    await services.projections.catch_up()
    if head.position == 0:
        async with services.projections.deferred(lambda done, total, _: folding(done, total)):
            count = await _import_whole(services.store, path, label, progress)
        return Imported(count, await services.store.head())
    async with services.engine.connect() as connection:
        frontier = await load_frontier(connection, head.position)
    types = services.store.types
    checked = check_file(
        path, label, head, types.versions(), frontier, checking, payloads=types.payload_problem
    )
    if checked.count:
        await _write_batches(services.store, path, label, checked, progress)
    return Imported(checked.count, await services.store.head())


def check_file(
    path: Path,
    label: str,
    head: Head,
    versions: Mapping[str, int],
    frontier: Frontier,
    progress: Progress = silent,
    *,
    payloads: Payloads,
) -> Checked:
    """Check every line against the chain (continuing `head`), the catalogue and
    `payloads`, and the trailer against what the lines hold; returns the number of events
    and their lines' fingerprints."""
    tree = Growing(frontier.copy())
    fingerprints = bytearray()
    count, total = 0, stated_count(path) or 0
    for _, line, _, _ in checked_lines(path, label, head, versions, tree, payloads):
        fingerprints += fingerprint(line)
        count += 1
        if count % _REPORT_EVERY == 0:
            progress(count, max(total, count))
    progress(count, count)
    return Checked(count, bytes(fingerprints), tree.subtrees)


_REPORT_EVERY = 1000  # lines checked between two reports of progress


async def _import_whole(store: EventStore, path: Path, label: str, progress: Progress) -> int:
    """Read, check and write the file in one pass, in one transaction (into an empty log):
    a process of its own reads and checks it (`import_check`) while this one writes."""
    reading = Handed(path, label, progress)
    async with (
        checking(
            path, label, store.types.versions(), IMPORT_BATCH, engine=backend_of(store.engine).name
        ) as chunks,
        contextlib.aclosing(reading.through(chunks)) as handed,
    ):
        try:
            count = await store.import_log(handed)
        except (InvalidAppend, DBAPIError) as error:
            raise Refused(
                f"{reading.refused()}: {_first_line(error)}; nothing was imported"
            ) from None
    progress(count, count)
    return count


class Handed:
    """How far the chunks of an export handed on to the database have got: the progress
    they make, and what the database refused when it refuses them."""

    def __init__(self, path: Path, label: str, progress: Progress) -> None:
        self.label, self.progress = label, progress
        self.size = max(path.stat().st_size, 1)
        self.stated = stated_count(path)
        self.handed = 0
        self.lines: tuple[int, int] | None = None  # of the chunk handed on last
        self.finished = False

    async def through(self, chunks: AsyncIterator[Chunk[Any]]) -> AsyncGenerator[Chunk[Any], None]:
        async for chunk in chunks:
            self.lines = chunk.first_line, chunk.last_line
            # Without a trailer's count, estimated from the share of the file read so far.
            total = self.stated or round(self.handed * self.size / max(chunk.read, 1))
            if total:  # else none yet: the first chunk of a file without a trailer
                self.progress(self.handed, max(total, self.handed))
            yield chunk
            self.handed += len(chunk.rows)
        self.finished = True

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


async def _write_batches(
    store: EventStore, path: Path, label: str, checked: Checked, progress: Progress
) -> None:
    """Write the lines the check pass checked, in batches; a line that is not the one
    checked, or a file that ends before them (it changed in between), stops the import
    before its batch is written."""
    batch: list[tuple[int, RecordedEvent]] = []
    written, seen, total = 0, 0, checked.count
    for number, line, event in read_items(path):
        if not isinstance(event, RecordedEvent):
            continue
        at = seen * FINGERPRINT_SIZE
        if seen >= total or checked.fingerprints[at : at + FINGERPRINT_SIZE] != fingerprint(line):
            raise Refused(
                f"{label}, line {number}: the file changed after it was checked; the"
                f" {written} events before this batch were imported and continue the chain"
            )
        seen += 1
        # A batch does not cut an append with an idempotency key: it is carried whole.
        if len(batch) >= IMPORT_BATCH and may_cut(batch[-1][1], event):
            written += await _write_batch(store, batch, checked.subtrees, label, written)
            batch = []
            progress(written, total)
        batch.append((number, event))
    if seen < total:  # cut short in between: what is left would not be the file checked
        raise Refused(
            f"{label}: the file changed after it was checked (it now ends after {seen} of the"
            f" {total} events checked); the {written} events before this batch were imported"
            " and continue the chain"
        )
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
