"""An export checked by processes of their own while an import into an empty database
writes what they have checked, so the checks and the writes run on every core.

`main([PATH, LABEL, VERSIONS, EVENTS, WORKER, WORKERS, ENGINE])`, run by `CHECKER` in a
process of its own (VERSIONS: each event type's current schema version, as JSON), reads the
whole file and checks the lines of every WORKERS-th chunk of EVENTS events from the WORKER-th
on (as `checked_lines` checks a line: its hash, type, stream id, key, payload (`PAYLOADS`),
and its place after the line before it within the chunk), and writes what `checks` says a
check writes: a `Chunk` of rows for each of its chunks, then `Ended` (how many events the
file holds, and its trailer), or the `Problem` that stops it. `checking` runs the processes
and reads their chunks in the file's order (`checks.checked_by`), the trailer checked after
the last.
Nothing here reaches a database, and the processes import no more than the check needs.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from domain.events import cooperation_events
from events.chain import GENESIS_HASH, ChainCheck, canonical_texts
from events.model import Head, RecordedEvent
from service.operations.checks import (
    CHECKERS,
    ROWS,
    Checked,
    Chunk,
    Ended,
    Place,
    Problem,
    checked_by,
    chunk_of,
    chunk_size,
    runner,
    write_frame,
)
from service.operations.export_lines import (
    IMPORT_BATCH,
    TRAILER_START,
    LineProblem,
    Payloads,
    check_follows,
    event_problem,
    parse_line,
    parse_trailer,
)
from service.operations.refused import Refused

# What a check makes of each payload: the cooperation's catalogue, read in the process.
PAYLOADS: Payloads = cooperation_events.payload_problem


def chunks_of(
    path: Path,
    label: str,
    versions: Mapping[str, int],
    events: int = IMPORT_BATCH,
    worker: int = 0,
    workers: int = 1,
    engine: str = "postgresql",
) -> Iterator[Chunk[Any] | Ended | Problem]:
    """The file's chunks of `events` events that are this `worker`'s (the `worker`-th of
    every `workers`), checked, as rows the `engine` takes (`ROWS`), then `Ended`, or the
    `Problem` found first in them (Refused where the file does not start the log). The
    lines of the other chunks are counted, not read. A line after the trailer is the problem
    of the worker whose chunk an event there would begin or go on."""
    count, read, trailer, form = 0, 0, None, ROWS[engine]
    batch: list[tuple[int, RecordedEvent, tuple[str, str]]] = []
    check = ChainCheck()
    start: Place | None = None  # of the chunk being checked, after the file's first
    try:
        with path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                read += len(line)
                if not line.strip():
                    continue
                mine = (count // events) % workers == worker
                if trailer is not None:
                    if not mine:
                        break
                    # Read first: a line that is not an event or a trailer says so.
                    if line.lstrip().startswith(TRAILER_START):
                        parse_trailer(line, number)
                    else:
                        parse_line(line, number)
                    raise LineProblem(number, "the trailer must be the last line; this follows it")
                if line.lstrip().startswith(TRAILER_START):
                    trailer = parse_trailer(line, number)
                    continue
                count += 1
                if not mine:
                    continue
                first = count % events == 1 or events == 1
                if first:
                    start = None
                event = parse_line(line, number)
                if count == 1:
                    check_follows(Head(0, GENESIS_HASH, None), event, label)
                elif first:
                    # Where it meets the chunk before is checked as the chunks are read.
                    start = Place(number, event.position, event.prev_hash, event.recorded_at)
                    check = ChainCheck(event.position - 1, event.prev_hash)
                texts = canonical_texts(event)
                problem = event_problem(check, versions, event, texts, PAYLOADS)
                if problem is not None:
                    raise LineProblem(number, problem)
                batch.append((number, event, texts))
                if count % events == 0:
                    yield chunk_of(batch, read, form)
                    batch, start = [], None
        if batch:
            yield chunk_of(batch, read, form)
    except LineProblem as error:
        yield Problem(f"{label}, line {error.number}: {error}; nothing was imported", start)
        return
    yield Ended(count, trailer)


def main(arguments: Sequence[str]) -> int:
    # Every object the check makes is freed by its count of references (none is in a
    # cycle): the cyclic collector's passes over them cost a fifth of the time.
    gc.disable()
    path, label, versions, events, worker, workers, engine = arguments
    out = sys.stdout.buffer
    encode = msgspec.msgpack.Encoder().encode
    try:
        for message in chunks_of(
            Path(path), label, json.loads(versions), int(events), int(worker), int(workers), engine
        ):
            write_frame(out, encode(message))
    except Refused as refusal:
        write_frame(out, encode(Problem(str(refusal))))
    out.flush()
    return 0


CHECKER = runner(__name__)  # the command that runs a file's check


@contextlib.asynccontextmanager
async def checking(
    path: Path,
    label: str,
    versions: Mapping[str, int],
    events: int = IMPORT_BATCH,
    workers: int | None = None,
    engine: str = "postgresql",
) -> AsyncIterator[AsyncIterator[Chunk[Any]]]:
    """The file checked by `workers` processes of their own (`CHECKERS` by default), its
    chunks (of `events`, or the power of two below, where the Merkle tree's subtrees of
    their size start) in the file's order as they come, with their Merkle `subtrees`
    column, as rows the `engine` takes (`ROWS`): Refused, with what a check found, when one
    finds a problem or stops, where two chunks do not meet, and when the trailer does not
    hold (after the last chunk, before the chunks end: a caller that writes them in one
    transaction has it rolled back). The processes are stopped when the block is left,
    whether or not all was read."""
    events, workers = chunk_size(events), workers or CHECKERS
    commands = [
        (
            *CHECKER,
            str(path),
            label,
            json.dumps(dict(versions)),
            str(events),
            str(worker),
            str(workers),
            engine,
        )
        for worker in range(workers)
    ]
    async with checked_by(commands, Checked(label, "the file", events, engine)) as chunks:
        yield chunks
