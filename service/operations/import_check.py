"""An export checked in a process of its own while an import into an empty database writes
what it has checked, so the two run on two cores.

`main([PATH, LABEL, VERSIONS, EVENTS])`, run by `CHECKER` in a process of its own
(VERSIONS: each event type's current schema version, as JSON), reads the file once, checks
each line as `checked_lines` does, and writes to its standard output, each framed by its
length (8 bytes, big-endian) and in MessagePack: a `Chunk` of rows of the events table at a
time (EVENTS, or more not to cut an append that carries an idempotency key), then
`Finished`, or the `Problem` that stops it. `checking` runs it and reads them.
Nothing here reaches a database, and the process imports no more than the check needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import signal
import sys
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import msgspec

from events.chain import GENESIS_HASH
from events.merkle import Frontier
from events.model import Head, RecordedEvent
from events.rows import CarriedKey, EventRow, carried_keys, may_cut, row_tuple
from service.operations.export_lines import IMPORT_BATCH, Growing, checked_lines
from service.operations.refused import Refused


class Chunk(msgspec.Struct, tag="chunk"):
    """Checked events as rows of the events table (with the Merkle `subtrees` column), the
    idempotency keys of the appends they hold, the lines they came from, and how many bytes
    of the file have been read."""

    rows: list[EventRow]
    keys: list[CarriedKey]
    first_line: int
    last_line: int
    read: int


class Finished(msgspec.Struct, tag="finished"):
    """Every line and the trailer checked."""

    count: int


class Problem(msgspec.Struct, tag="problem"):
    """Why the file is refused (the first problem found, naming its line)."""

    message: str


_HEADER = 8
_ROOT = Path(__file__).resolve().parents[2]  # the directory that holds `service`
_EXIT_WAIT = 5.0  # seconds for a process that stopped writing to end
_decoder = msgspec.msgpack.Decoder(Chunk | Finished | Problem)


def chunks_of(
    path: Path, label: str, versions: Mapping[str, int], events: int = IMPORT_BATCH
) -> Iterator[Chunk]:
    """The file's events checked, a chunk at a time; Refused on the first problem. A chunk
    is handed on only once the lines after it have been read far enough to end it: the last
    chunk, after the trailer has been checked."""
    tree = Growing(Frontier())
    batch: list[tuple[int, RecordedEvent, tuple[str, str]]] = []
    read = 0
    start = Head(0, GENESIS_HASH, None)
    for number, line, event, texts in checked_lines(path, label, start, versions, tree):
        if len(batch) >= events and may_cut(batch[-1][1], event):
            yield _chunk(batch, tree, read)
            batch = []
        read += len(line)
        batch.append((number, event, texts))
    if batch:
        yield _chunk(batch, tree, read)


def _chunk(
    batch: Sequence[tuple[int, RecordedEvent, tuple[str, str]]], tree: Growing, read: int
) -> Chunk:
    tree.grown()
    kept = tree.subtrees.pop
    rows = [row_tuple(event, kept(event.position, None), texts) for _, event, texts in batch]
    events = [event for _, event, _ in batch]
    return Chunk(rows, carried_keys(events), batch[0][0], batch[-1][0], read)


def main(arguments: Sequence[str]) -> int:
    # Every object the check makes is freed by its count of references (none is in a
    # cycle): the cyclic collector's passes over them cost a fifth of the time.
    gc.disable()
    path, label, versions, events = arguments
    out = sys.stdout.buffer
    encode = msgspec.msgpack.Encoder().encode
    count = 0
    message: Finished | Problem
    try:
        for chunk in chunks_of(Path(path), label, json.loads(versions), int(events)):
            write_frame(out, encode(chunk))
            count += len(chunk.rows)
        message = Finished(count)
    except Refused as refusal:
        message = Problem(str(refusal))
    write_frame(out, encode(message))
    out.flush()
    return 0


def write_frame(out: IO[bytes], payload: bytes) -> None:
    out.write(len(payload).to_bytes(_HEADER, "big"))
    out.write(payload)


# The command that runs the check, before its arguments. Not `-m`: that would put the
# working directory first on the module path (a `json.py` or an `events/` there would be
# imported instead); `-P` leaves it out, and the directory that holds `service` comes last,
# so an installed Coop and the standard library are found first.
CHECKER = (
    sys.executable,
    "-P",
    "-c",
    f"import sys; sys.path.append({str(_ROOT)!r});"
    f" from {__name__} import main; sys.exit(main(sys.argv[1:]))",
)


@contextlib.asynccontextmanager
async def checking(
    path: Path, label: str, versions: Mapping[str, int], events: int = IMPORT_BATCH
) -> AsyncIterator[AsyncIterator[Chunk]]:
    """The file checked by a process of its own, its chunks (of `events` or a few more) as
    they come: Refused, with what the check found, when it finds a problem or stops. The
    process is stopped when the block is left, whether or not all was read."""
    # What it says on its standard error goes to a file: a pipe nobody read while it runs
    # would stop it once full.
    with tempfile.TemporaryFile() as said:
        process = await asyncio.create_subprocess_exec(
            *CHECKER,
            str(path),
            label,
            json.dumps(dict(versions)),
            str(events),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=said,
            limit=1 << 22,  # a chunk is a few MiB: read it in few wakes
        )
        chunks = _chunks(process, label, said)
        try:
            yield chunks
        finally:
            await chunks.aclose()
            if process.returncode is None:
                process.kill()
            await process.wait()


async def _chunks(
    process: asyncio.subprocess.Process, label: str, said: IO[bytes]
) -> AsyncGenerator[Chunk, None]:
    assert process.stdout is not None
    while True:
        try:
            size = int.from_bytes(await process.stdout.readexactly(_HEADER), "big")
            message = _decoder.decode(await process.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            why = await _why_stopped(process, said)
            raise Refused(
                f"{label}: the check of the file stopped ({why}); nothing was imported"
            ) from None
        except msgspec.DecodeError as error:
            raise Refused(
                f"{label}: the check of the file sent what is not a chunk of rows ({error});"
                " nothing was imported"
            ) from None
        if isinstance(message, Problem):
            raise Refused(message.message)
        if isinstance(message, Finished):
            return
        yield message


async def _why_stopped(process: asyncio.subprocess.Process, said: IO[bytes]) -> str:
    """The last line the process wrote to its standard error, or how it ended."""
    try:
        code = await asyncio.wait_for(process.wait(), _EXIT_WAIT)
    except TimeoutError:  # it closed its output but does not end
        process.kill()
        code = await process.wait()
    said.seek(0)
    lines = said.read().decode(errors="replace").strip().splitlines()
    if lines:
        return lines[-1]
    if code < 0:  # killed: by the kernel when memory ran out, or by an operator
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
