"""The log replayed up to a point into a new SQLite file, with its projections."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from events.backends import backend_of
from events.chain import ChainCheck, canonical_texts
from events.database import create_engine
from events.errors import InvalidAppend
from events.kept import kept_subtrees
from events.merkle import Frontier
from events.model import Head
from events.registry import EventTypes
from events.rows import CarriedKey, carried_keys
from events.store import EventStore
from service.migrate import upgrade
from service.operations.database import Refused
from service.operations.export_lines import catalogue_problem
from service.operations.import_check import ROWS
from service.operations.progress import Progress, silent
from service.services import Services, build_services
from service.settings import Settings

PAGE = 1000


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


class ChainBroken(InvalidAppend):
    """A copy met an event that does not continue the chain: the first position that does
    not, and what is wrong there (as `events.verify.verify_chain` says it)."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"cannot import: {problem}")
        self.position, self.problem = position, problem


@dataclass(frozen=True)
class _Copied:
    """A page of the source log as rows of the target's events table (`LogChunk`)."""

    rows: list[Any]
    keys: list[CarriedKey]


async def copy_log(
    source: EventStore, target: EventStore, until: int, progress: Progress = silent
) -> int:
    """Copy the source log up to `until` into the empty `target`, as an import into an empty
    log writes it (`EventStore.import_log`: one transaction, the events table's secondary
    indexes made after its rows, no fold), each event checked as an import checks a line
    (its place in the chain, its hash recomputed from its values, its type, stream id and
    idempotency key), the Merkle tree grown from the hashes. Returns the position copied up
    to; anything refused rolls the whole copy back (`InvalidAppend`; `ChainBroken` where the
    chain breaks)."""
    row = ROWS[backend_of(target.engine).name]
    versions = target.types.versions()

    async def pages() -> AsyncIterator[_Copied]:
        after, frontier, check = 0, Frontier(), ChainCheck()
        while after < until:
            batch = await source.read_all(after=after, until=until, limit=PAGE)
            if not batch:
                return
            texts = [canonical_texts(event) for event in batch]
            for event, spelled in zip(batch, texts, strict=True):
                problem = check.problem(event, texts=spelled)
                if problem is not None:
                    raise ChainBroken(check.position + 1, problem)
                problem = catalogue_problem(versions, event)
                if problem is not None:
                    raise InvalidAppend(f"cannot import: {problem}")
            # Each hash checked first: the tree takes them as hexadecimal digits.
            kept = kept_subtrees(frontier, [event.hash for event in batch])
            rows = [row(*values) for values in zip(batch, kept, texts, strict=True)]
            yield _Copied(rows, carried_keys(batch))
            after = batch[-1].position
            progress(after, until)

    await target.import_log(pages())
    return (await target.head()).position


async def position_of(store: EventStore, until: int | datetime) -> int:
    """A position, or the last position recorded at a moment, checked against the log."""
    head = await store.head()
    if isinstance(until, datetime):
        return await store.position_at(until)
    if until > head.position:
        raise Refused(f"the log ends at position {head.position}; it has no {until}", usage=True)
    return until


async def replay_to(
    source: EventStore,
    target: Path,
    until: int,
    progress: Progress = silent,
    folding: Progress = silent,
) -> Head:
    """Build the log up to `until` with its projections into the new SQLite file `target`,
    written beside it first and moved into place only when complete. The log is copied
    first, then folded in one pass with the read models in memory (`folding` reports it)."""
    check_new_file(target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".coop-replay-") as folder:
        building = Path(folder) / target.name
        async with fresh_sqlite(building, source.types) as copy:
            await copy_log(source, copy.store, until, progress)  # no fold: rows, not appends
            await copy.projections.up_to_date(lambda done, total, _: folding(done, total))
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
    check_new_file(target)
    os.replace(building, target)


def check_new_file(target: Path) -> None:
    if target.exists():
        raise Refused(f"{target} already exists; replay writes only a new file", usage=True)
    if not target.parent.is_dir():
        raise Refused(f"there is no folder {target.parent} to write {target.name} in", usage=True)
