"""Checks in processes of their own, whose chunks of checked rows the calling process
writes as they come (`coop import`'s check of a file, `import_check`; the check of a log
`coop replay` and `coop verify` copy, `copy_check`).

A check process writes to its standard output, each framed by its length (8 bytes,
big-endian) and in MessagePack, a `Chunk` of rows of the events table for each of its
chunks (as the engine's bulk write takes them: `ROWS`), then `Ended`, or the `Problem` that
stops it. `checked_by` runs the processes and reads their chunks in order, checks where each
chunk meets the one before and adds the Merkle subtrees larger than a chunk (each process
fills in those within its chunks), and checks a file's trailer.
Nothing here reaches a database, and the processes import no more than a check needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Generic, NamedTuple, TypeVar

import msgspec

from events.chain import ChainCheck
from events.kept import LOWEST_KEPT, kept_subtrees
from events.merkle import Frontier
from events.model import RecordedEvent
from events.rows import CarriedKey, EventRow, SQLiteRow, carried_keys, row_tuple, sqlite_row
from service.operations.export_lines import Trailer, trailer_problem
from service.operations.refused import Refused

Row = TypeVar("Row", EventRow, SQLiteRow)


class Chunk(msgspec.Struct, Generic[Row], tag="chunk"):
    """Checked events as rows of the events table, the idempotency keys of the appends they
    hold (an append cut by the chunk's end or start carries its key in part: the store joins
    the parts), the lines they came from, how many bytes of the file have been read, and
    the hashes of the Merkle tree's complete subtrees over the chunk's events, largest first
    (a whole chunk: its root). A chunk starts where a subtree of its size does, so the rows'
    `subtrees` column holds what the chunk completes; the larger subtrees it completes are
    added as the chunks are read in order."""

    rows: list[Row]
    keys: list[CarriedKey]
    first_line: int
    last_line: int
    read: int
    top: list[bytes]


class Ended(msgspec.Struct, tag="ended"):
    """Every line read: the events the file holds, and its trailer (None: it has none)."""

    count: int
    trailer: Trailer | None


class Place(msgspec.Struct, array_like=True):
    """Where a chunk's first event says it stands in the chain, and when it was recorded."""

    line: int
    position: int
    prev_hash: str
    recorded_at: datetime


class Problem(msgspec.Struct, tag="problem"):
    """Why the file is refused (the first problem a check found, naming its line), with the
    place of the first event of the chunk it was found in, where that chunk is not the
    file's first: where that chunk meets the one before comes first in the file.
    `unread`: the check could not read what it checks (its database failed: `Unread`), and
    whether that may pass (`unavailable`, as `Refused` says it)."""

    message: str
    start: Place | None = None
    unread: bool = False
    unavailable: bool = False


class Unread(Refused):
    """A check could not read what it checks (its database failed): not a problem of what
    it read."""


CHECKERS = 2  # processes that check a file: two cores check while this one writes
_HEADER = 8
_ROOT = Path(__file__).resolve().parents[2]  # the directory that holds `service`
_EXIT_WAIT = 5.0  # seconds for a process that stopped writing to end
_SQLALCHEMY_LINK = "(Background on this error at"  # the line SQLAlchemy ends an error with

ROWS: dict[str, Callable[[RecordedEvent, bytes | None, tuple[str, str]], Any]] = {
    "postgresql": row_tuple,
    "sqlite": sqlite_row,
}
"""Each engine's rows as its bulk write takes them: asyncpg's COPY encodes the values as they
are; sqlite3 would call an adapter in Python for each id and time, in the writer's thread."""
_decoders = {
    "postgresql": msgspec.msgpack.Decoder(Chunk[EventRow] | Ended | Problem),
    "sqlite": msgspec.msgpack.Decoder(Chunk[SQLiteRow] | Ended | Problem),
}


def chunk_of(
    batch: Sequence[tuple[int, RecordedEvent, tuple[str, str]]],
    read: int,
    form: Callable[[RecordedEvent, bytes | None, tuple[str, str]], Any],
) -> Chunk[Any]:
    """Checked events, each with the number of its line (or its position) and its canonical
    texts, as a chunk of rows `form` makes, with the Merkle subtrees they complete."""
    events = [event for _, event, _ in batch]
    tree = Frontier()
    held = kept_subtrees(tree, [event.hash for event in events])
    rows = [
        form(event, column, texts) for (_, event, texts), column in zip(batch, held, strict=True)
    ]
    return Chunk(rows, carried_keys(events), batch[0][0], batch[-1][0], read, tree.hashes)


def write_frame(out: IO[bytes], payload: bytes) -> None:
    out.write(len(payload).to_bytes(_HEADER, "big"))
    out.write(payload)


def runner(module: str) -> tuple[str, ...]:
    """The command that runs `module`'s `main`, before its arguments. Not `-m`: that would
    put the working directory first on the module path (a `json.py` or an `events/` there
    would be imported instead); `-P` leaves it out, and the directory that holds `service`
    comes last, so an installed Coop and the standard library are found first."""
    return (
        sys.executable,
        "-P",
        "-c",
        f"import sys; sys.path.append({str(_ROOT)!r});"
        f" from {module} import main; sys.exit(main(sys.argv[1:]))",
    )


def chunk_size(events: int) -> int:
    """The power of two at or below `events`: a chunk starts where a subtree of its size
    does."""
    return 1 << (events.bit_length() - 1)


class Checked(NamedTuple):
    """What the checks read, as refusals name it (`label`, and `what` a check of it is
    of), how many events a whole chunk holds (a power of two), the `engine` whose rows the
    chunks hold, whether the last line is a trailer to check the rest against, what a
    refusal leaves (`outcome`), and whether a refusal names the line an event is on
    (`lines`: a file's; a log's events are named by their positions, which the problems
    already say)."""

    label: str
    what: str
    events: int
    engine: str
    trailer: bool = True
    outcome: str = "nothing was imported"
    lines: bool = True

    def where(self, line: int) -> str:
        """How a refusal names what was read, and the line it stopped at."""
        return f"{self.label}, line {line}" if self.lines else self.label


@contextlib.asynccontextmanager
async def checked_by(
    commands: Sequence[Sequence[str]],
    checked: Checked,
    environment: Mapping[str, str] | None = None,
) -> AsyncIterator[AsyncIterator[Chunk[Any]]]:
    """The chunks the processes that `commands` run send (the n-th chunk from the
    (n mod processes)-th, each a `Chunk`, then `Ended` or a `Problem`), in order, checked
    where they meet (`_in_order`). The processes are stopped when the block is left."""
    with contextlib.ExitStack() as files:
        # What they say on their standard error goes to files: a pipe nobody read while
        # they run would stop them once full.
        said = [files.enter_context(tempfile.TemporaryFile()) for _ in commands]
        processes: list[asyncio.subprocess.Process] = []
        try:
            for command, err in zip(commands, said, strict=True):
                processes.append(
                    await asyncio.create_subprocess_exec(
                        *command,
                        stdin=asyncio.subprocess.DEVNULL,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=err,
                        env=environment,
                        limit=1 << 22,  # a chunk is a few MiB: read it in few wakes
                    )
                )
            decoder = _decoders[checked.engine]
            streams = [
                _messages(process, checked, err, decoder)
                for process, err in zip(processes, said, strict=True)
            ]
            chunks = _in_order(streams, checked)
            try:
                yield chunks
            finally:
                await chunks.aclose()
                for stream in streams:
                    await stream.aclose()
        finally:
            await _stopped(processes)


async def _in_order(
    streams: Sequence[AsyncGenerator[Chunk[Any] | Ended | Problem, None]], checked: Checked
) -> AsyncGenerator[Chunk[Any], None]:
    """The chunks of every check in the file's order (the n-th from the (n mod workers)-th
    check), each checked against the one before, with the kept subtrees larger than a chunk
    added to the `subtrees` of the event that completes them; then the trailer checked
    against them all."""
    label, events = checked.label, checked.events
    check, whole = ChainCheck(), Frontier()  # `whole`: over the roots of whole chunks
    level = events.bit_length() - 1  # of a whole chunk's root in the tree
    rest: list[bytes] = []  # the subtrees of the last chunk, if not whole
    number = 0
    while True:
        message = await anext(streams[number % len(streams)])
        if isinstance(message, Problem):
            raise _refusal(message, check, checked)
        if isinstance(message, Ended):
            break
        rows = message.rows
        if number:
            first = rows[0]
            problem = check.out_of_place(first.position, first.prev_hash) or check.went_back(
                first.position, first.recorded_at
            )
            if problem is not None:
                raise Refused(f"{checked.where(message.first_line)}: {problem}; {checked.outcome}")
        last = rows[-1]
        check.took(last.position, last.hash, len(rows), recorded_at=last.recorded_at)
        if len(rows) == events:
            larger = [
                node.hash
                for node in whole.append(message.top[0], lowest=1)
                if level + node.level >= LOWEST_KEPT
            ]
            if larger:
                rows[-1] = last._replace(subtrees=(last.subtrees or b"") + b"".join(larger))
        else:
            rest = message.top
        number += 1
        yield message
    # Chunk `number` does not exist: each other check has ended (or found a problem after
    # the trailer), having counted as many events.
    endings = [message] + [
        await anext(streams[(number + offset) % len(streams)]) for offset in range(1, len(streams))
    ]
    for ending in endings:
        if isinstance(ending, Problem):
            raise _refusal(ending, check, checked)
        if not isinstance(ending, Ended) or ending.count != check.checked:
            raise Refused(
                f"{label}: the checks of {checked.what} disagree on where it ends (was it"
                f" changed while it was read?); {checked.outcome}"
            )
    if not checked.trailer:
        return
    tree = Frontier(check.checked, whole.hashes + rest)
    problem = trailer_problem(message.trailer, check, tree)
    if problem is not None:
        raise Refused(f"{label}: {problem}; nothing was imported")


async def _stopped(processes: Sequence[asyncio.subprocess.Process]) -> None:
    """Every process killed, what it had written read to its end (a process whose output
    was not read to its end is not waited for), and waited for."""
    for process in processes:
        if process.returncode is None:
            process.kill()
    for process in processes:
        if process.stdout is not None:
            with contextlib.suppress(ConnectionError):
                await process.stdout.read()
        await process.wait()


def _refusal(problem: Problem, check: ChainCheck, checked: Checked) -> Refused:
    """What a check found, or before it where the chunk it found it in does not meet the
    chunks before (`check` has taken them)."""
    start = problem.start
    if start is not None:
        out_of_place = check.out_of_place(start.position, start.prev_hash) or check.went_back(
            start.position, start.recorded_at
        )
        if out_of_place is not None:
            return Refused(f"{checked.where(start.line)}: {out_of_place}; {checked.outcome}")
    if problem.unread:
        return Unread(problem.message, unavailable=problem.unavailable)
    return Refused(problem.message)


async def _messages(
    process: asyncio.subprocess.Process,
    checked: Checked,
    said: IO[bytes],
    decoder: msgspec.msgpack.Decoder[Any],
) -> AsyncGenerator[Chunk[Any] | Ended | Problem, None]:
    """What one check sends, to its end (`Ended` or a `Problem`); Refused when it stops
    before, or sends what is not a message."""
    assert process.stdout is not None
    while True:
        try:
            size = int.from_bytes(await process.stdout.readexactly(_HEADER), "big")
            message = decoder.decode(await process.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            why = await _why_stopped(process, said)
            raise Refused(
                f"{checked.label}: the check of {checked.what} stopped ({why}); {checked.outcome}"
            ) from None
        except msgspec.DecodeError as error:
            raise Refused(
                f"{checked.label}: the check of {checked.what} sent what is not a chunk of"
                f" rows ({error}); {checked.outcome}"
            ) from None
        yield message
        if not isinstance(message, Chunk):
            return


async def _why_stopped(process: asyncio.subprocess.Process, said: IO[bytes]) -> str:
    """The last line the process wrote to its standard error, or how it ended."""
    try:
        code = await asyncio.wait_for(process.wait(), _EXIT_WAIT)
    except TimeoutError:  # it closed its output but does not end
        process.kill()
        code = await process.wait()
    said.seek(0)
    lines = [
        line
        for line in said.read().decode(errors="replace").strip().splitlines()
        if not line.startswith(_SQLALCHEMY_LINK)
    ]
    if lines:
        return lines[-1]
    if code < 0:  # killed: by the kernel when memory ran out, or by an operator
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
