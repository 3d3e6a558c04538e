"""A log checked by processes of their own while a copy of it into an empty database writes
what they have checked (`coop replay`, `coop verify`): the chunks of an import's checks
(`import_check`), read from the database rather than from a file, by the same machinery
(`checks`).

`main([VERSIONS, UNTIL, EVENTS, WORKER, WORKERS, ENGINE])`, run by `COPIER` in a process of
its own with the source database's URL in its environment (`SOURCE`: a password stays off
the command line), reads every WORKERS-th chunk of EVENTS positions from the WORKER-th on,
up to UNTIL, and checks each event as an import checks a line (its place in the chain within
the chunk, its hash recomputed from its values, its type, stream id, idempotency key and
payload). It writes, framed as `checks` says, a `Chunk` of rows for each of its chunks, then
`Ended` (counting UNTIL events), or the `Problem` that stops it. `copying` runs the
processes and reads their chunks in the log's order, checked where they meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import select

from events.chain import ChainCheck, canonical_texts
from events.database import create_engine
from events.rows import recorded_from_row
from events.tables import events as log
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
from service.operations.export_lines import IMPORT_BATCH, event_problem
from service.operations.import_check import PAYLOADS

SOURCE = "COOP_COPY_SOURCE"  # the environment variable that names the log to read


async def log_chunks(
    url: str,
    versions: Mapping[str, int],
    until: int,
    events: int = IMPORT_BATCH,
    worker: int = 0,
    workers: int = 1,
    engine: str = "postgresql",
) -> AsyncIterator[Chunk[Any] | Ended | Problem]:
    """The log's chunks of `events` positions up to `until` that are this `worker`'s (the
    `worker`-th of every `workers`), each checked, as rows the `engine` takes, then `Ended`;
    or the `Problem` found first in them."""
    form, database = ROWS[engine], create_engine(url)
    try:
        async with database.connect() as connection:
            for start in range(worker * events, until, workers * events):
                query = (
                    select(log)
                    .where(log.c.position > start, log.c.position <= min(start + events, until))
                    .order_by(log.c.position)
                )
                batch = [recorded_from_row(row) for row in await connection.execute(query)]
                if not batch:
                    yield Problem(f"position {start + 1} is missing")
                    return
                first, place = batch[0], None
                check = ChainCheck()
                if start:  # where it meets the chunk before is checked as the chunks are read
                    place = Place(
                        first.position, first.position, first.prev_hash, first.recorded_at
                    )
                    check = ChainCheck(first.position - 1, first.prev_hash)
                texts = [canonical_texts(event) for event in batch]
                for event, spelled in zip(batch, texts, strict=True):
                    problem = event_problem(check, versions, event, spelled, PAYLOADS)
                    if problem is not None:
                        yield Problem(problem, place)
                        return
                checked = [(e.position, e, t) for e, t in zip(batch, texts, strict=True)]
                yield chunk_of(checked, batch[-1].position, form)
    finally:
        await database.dispose()
    yield Ended(until, None)


async def _written(arguments: Sequence[str]) -> None:
    versions, until, events, worker, workers, engine = arguments
    out, url = sys.stdout.buffer, os.environ[SOURCE]
    encode = msgspec.msgpack.Encoder().encode
    chunks = log_chunks(
        url, json.loads(versions), int(until), int(events), int(worker), int(workers), engine
    )
    try:
        async for message in chunks:
            write_frame(out, encode(message))
    except Exception as error:
        # The database failed, not the log: said as the verbs say it (no password in it).
        from service.operations.database import refusal_for  # the services: only here

        refusal = refusal_for(error, url)
        if refusal is None:
            raise
        write_frame(out, encode(Problem(str(refusal), None, True, refusal.unavailable)))
    out.flush()


def main(arguments: Sequence[str]) -> int:
    gc.disable()  # as an import's check: nothing it makes is in a cycle
    asyncio.run(_written(arguments))
    return 0


COPIER = runner(__name__)  # the command that runs a log's check


@contextlib.asynccontextmanager
async def copying(
    url: str,
    versions: Mapping[str, int],
    until: int,
    engine: str,
    events: int = IMPORT_BATCH,
    workers: int = CHECKERS,
) -> AsyncIterator[AsyncIterator[Chunk[Any]]]:
    """The log at `url` up to `until`, checked by `workers` processes of their own, in
    chunks of `events` (or the power of two below) in the log's order as they come, with
    their Merkle `subtrees` column, as rows the `engine` takes: Refused where a check finds
    a problem (saying it as `verify_chain` would), where two chunks do not
    meet, or where a check stops; `Unread` where a check cannot read the database. The
    processes are stopped when the block is left."""
    events = chunk_size(events)
    commands = [
        (*COPIER, json.dumps(dict(versions)), str(until), str(events), str(w), str(workers), engine)
        for w in range(workers)
    ]
    checked = Checked("the copy", "the log", events, engine, False, "nothing was copied", False)
    async with checked_by(commands, checked, {**os.environ, SOURCE: url}) as chunks:
        yield chunks
