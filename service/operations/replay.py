"""The log replayed up to a point into a new SQLite file, with its projections."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from events.backends import backend_of
from events.database import create_engine
from events.errors import InvalidAppend
from events.model import Head
from events.registry import EventTypes
from events.store import EventStore
from events.verify import verify_chain
from service.migrate import upgrade
from service.operations.checks import Chunk, Unread
from service.operations.copy_check import copying
from service.operations.database import Refused, check_within
from service.operations.export_lines import IMPORT_BATCH
from service.operations.progress import Progress, silent
from service.services import Services, build_services
from service.settings import Settings

CHUNK = IMPORT_BATCH  # events a check of the copy reads and sends at once (a power of two)


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
        super().__init__(problem)
        self.position, self.problem = position, problem


class CopyRefused(InvalidAppend):
    """A copy refused for what is not a break in the chain (an event the catalogue refuses),
    with the chain's own pass over what was to be copied, which found it whole: `checked`
    events."""

    def __init__(self, message: str, checked: int) -> None:
        super().__init__(message)
        self.checked = checked


async def copy_log(
    source: EventStore,
    target: EventStore,
    until: int,
    progress: Progress = silent,
    chained: Progress = silent,
) -> int:
    """Copy the source log up to `until` into the empty `target`, as an import into an empty
    log writes it (`EventStore.import_log`: one transaction, the events table's secondary
    indexes made after its rows, no fold), each event checked by processes of their own as
    an import checks a line (`copy_check`: its place in the chain, its hash recomputed from
    its values, its type, stream id, idempotency key and payload) in chunks of `CHUNK`, the Merkle
    tree grown from the hashes. Returns the position copied up to; anything refused rolls
    the whole copy back (`ChainBroken` where the chain breaks, named as `verify_chain` names
    it, by its pass over the log, which `chained` is told of; `CopyRefused` where that pass
    finds the chain whole)."""
    url = source.engine.url.render_as_string(hide_password=False)
    engine = backend_of(target.engine).name
    try:
        async with copying(url, target.types.versions(), until, engine, CHUNK) as chunks:
            await target.import_log(_told(chunks, until, progress))
    except Unread:
        raise  # the database failed, not the log
    except (Refused, InvalidAppend) as refused:
        # The checks see their own chunks; the first break in the whole log is found by
        # reading it in order.
        report = await verify_chain(source, 0, until, chained)
        if not report.ok:
            raise ChainBroken(report.first_bad_position or 0, report.message) from None
        raise CopyRefused(str(refused), report.checked) from None
    return (await target.head()).position


async def _told(
    chunks: AsyncIterator[Chunk[Any]], until: int, progress: Progress
) -> AsyncIterator[Chunk[Any]]:
    async for chunk in chunks:
        yield chunk
        progress(chunk.rows[-1].position, until)


async def position_of(store: EventStore, until: int | datetime) -> int:
    """A position, or the last position recorded at a moment, checked against the log."""
    head = await store.head()
    if isinstance(until, datetime):
        position = await store.position_at(until)
        if position == 0:
            raise Refused(
                f"nothing was recorded by {until.isoformat()}: there is nothing to replay",
                usage=True,
            )
        return position
    check_within(head.position, until)
    if until == 0:
        raise Refused("--until 0 is before the first event: there is nothing to replay", usage=True)
    return until


async def replay_to(
    source: EventStore,
    target: Path,
    until: int,
    progress: Progress = silent,
    folding: Progress = silent,
    chained: Progress = silent,
) -> Head:
    """Build the log up to `until` with its projections into the new SQLite file `target`,
    written beside it first and moved into place only when complete. The log is copied
    first, then folded in one pass with the read models in memory (`folding` reports it;
    `chained`, the chain's own pass where the copy was refused)."""
    check_new_file(target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".coop-replay-") as folder:
        building = Path(folder) / target.name
        async with fresh_sqlite(building, source.types) as copy:
            await copy_log(source, copy.store, until, progress, chained)  # rows, not appends
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
