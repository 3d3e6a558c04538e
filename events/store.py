"""The event log: append (atomic, serialised, hash-chained, idempotent) and read."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import msgspec
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.backends import backend_of
from events.chain import GENESIS_HASH, ChainCheck, canonical_json, event_hash
from events.database import write_transaction
from events.errors import (
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidAppend,
    InvalidPayload,
)
from events.model import (
    AppendResult,
    Expect,
    ExpectedVersion,
    Head,
    Metadata,
    NewEvent,
    RecordedEvent,
    check_stream_id,
    metadata_problem,
)
from events.registry import EventTypes
from events.rows import (
    CarriedKey,
    LogChunk,
    carried_keys,
    recorded_from_row,
    recorded_from_values,
    result_of,
    row_tuple,
)
from events.tables import events, idempotency_keys
from events.tree import LogTree

MAX_BATCH = 1000
# The request digest of an idempotency key carried over by an import: the log keeps the
# key (in each event's metadata) but not what the request was, so any retry with the key
# replays what it wrote.
IMPORTED_DIGEST = ""
DEFAULT_MAX_PAYLOAD = 64 * 1024

# Called inside the append's transaction, after its rows are written (projections).
InTransaction = Callable[[AsyncConnection, Sequence[RecordedEvent]], Awaitable[None]]
# Called after the append committed (the change feed).
Committed = Callable[[AppendResult], None]
# Called inside an append's transaction, under the write lock, before anything is written:
# raising refuses the append.
Check = Callable[[AsyncConnection], Awaitable[None]]


class Prepared(NamedTuple):
    """An event checked and ready to write: its type, canonical payload text and given id."""

    type: str
    schema_version: int
    data: str
    event_id: UUID | None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Appending:
    """The appends under way in this process, so that readers can let them go first: on one
    event loop (and, on SQLite, with the driver's thread waiting for the interpreter lock),
    a reader that keeps the loop busy makes every statement of an append wait."""

    def __init__(self) -> None:
        self.count = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def __enter__(self) -> None:
        self.count += 1
        self._quiet.clear()

    def __exit__(self, *_exc: object) -> None:
        self.count -= 1
        if not self.count:
            self._quiet.set()

    async def quiet(self, longest: float) -> None:
        """Return once no append is under way, or after `longest` seconds at most (a reader
        is never starved by a stream of appends)."""
        if self.count:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(longest):
                    await self._quiet.wait()


class EventStore:
    """One append-only log of events, on SQLite or PostgreSQL."""

    def __init__(
        self,
        engine: AsyncEngine,
        types: EventTypes,
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.types = types
        self.max_payload_bytes = max_payload_bytes
        self._clock = clock
        self._in_transaction: list[InTransaction] = []
        self._committed: list[Committed] = []
        self._tree = LogTree()
        self.appending = Appending()

    def on_append(self, listener: InTransaction) -> None:
        """Run `listener` inside every append's transaction, after the events are written."""
        self._in_transaction.append(listener)

    def on_commit(self, listener: Committed) -> None:
        """Call `listener` after every append commits."""
        self._committed.append(listener)

    async def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent | object],
        expected_version: ExpectedVersion = Expect.ANY,
        metadata: Metadata | None = None,
        *,
        also_expected: Mapping[str, ExpectedVersion] | None = None,
        request_digest: str | None = None,
        check: Check | None = None,
    ) -> AppendResult:
        """Append a batch to one stream, all or nothing.

        `also_expected` names other streams the caller's decision was based on; the append
        fails with ConcurrencyConflict if any of them moved meanwhile. `request_digest`
        identifies the request behind an idempotency key (by default, the batch itself).
        `check` runs under the write lock before anything is written; what it raises
        refuses the append.
        """
        metadata = metadata or Metadata()
        check_stream_id(stream_id)
        batch = self._prepare(new_events)
        meta_text = canonical_json(msgspec.to_builtins(metadata))
        digest = request_digest or _request_digest(stream_id, batch)
        with self.appending:
            async with write_transaction(self.engine, lock=False) as connection:
                head, version = await _lock_and_read_head(connection, stream_id)
                earlier = await self._earlierresult_of(
                    connection, stream_id, batch, digest, metadata
                )
                if earlier is not None:
                    return earlier
                _check_expected(stream_id, expected_version, version)
                for other, expected in (also_expected or {}).items():
                    _check_expected(other, expected, await _stream_version(connection, other))
                if check is not None:
                    await check(connection)
                recorded = await self._write(
                    connection, head, stream_id, version or 0, batch, meta_text
                )
                if metadata.idempotency_key is not None:
                    await connection.execute(
                        insert(idempotency_keys).values(
                            key=metadata.idempotency_key,
                            stream_id=stream_id,
                            request_digest=digest,
                            first_position=recorded[0].position,
                            last_position=recorded[-1].position,
                        )
                    )
                await self._written(connection, recorded)
            return self._announced(result_of(recorded))

    def _prepare(self, new_events: Sequence[NewEvent | object]) -> list[Prepared]:
        if not new_events:
            raise InvalidAppend("an append needs at least one event; the batch is empty")
        if len(new_events) > MAX_BATCH:
            raise InvalidAppend(f"a batch holds at most {MAX_BATCH} events, not {len(new_events)}")
        batch = []
        for item in new_events:
            entry, text = self.types.canonical(item)
            size = len(text.encode())
            if size > self.max_payload_bytes:
                raise InvalidAppend(
                    f"{entry.name} payload is {size} bytes; the limit is {self.max_payload_bytes}"
                )
            event_id = _event_id(item.event_id) if isinstance(item, NewEvent) else None
            batch.append(Prepared(entry.name, entry.version, text, event_id))
        ids = [event.event_id for event in batch if event.event_id is not None]
        if len(ids) != len(set(ids)):
            raise InvalidAppend("the batch gives the same event id twice")
        return batch

    async def _earlierresult_of(
        self,
        connection: AsyncConnection,
        stream_id: str,
        batch: list[Prepared],
        digest: str,
        metadata: Metadata,
    ) -> AppendResult | None:
        """The result of the first attempt, when this append is a retry of one that landed."""
        if metadata.idempotency_key is not None:
            earlier = await self._keyed(connection, metadata.idempotency_key, digest)
            if earlier is not None:
                return earlier
        given = [event.event_id for event in batch if event.event_id is not None]
        if not given:
            return None
        rows = (
            await connection.execute(
                select(events).where(events.c.event_id.in_(given)).order_by(events.c.position)
            )
        ).all()
        if not rows:
            return None
        stored = [(row.stream_id, row.type, row.data, row.event_id) for row in rows]
        asked = [(stream_id, event.type, event.data, event.event_id) for event in batch]
        if stored != asked:
            raise IdempotencyKeyReused(
                f"event id {rows[0].event_id} was already written with different content"
                f" (position {rows[0].position}); a retry must repeat the same events"
            )
        return result_of([recorded_from_row(row) for row in rows], replayed=True)

    async def _replayed(self, connection: AsyncConnection, first: int, last: int) -> AppendResult:
        rows = await connection.execute(
            select(events).where(events.c.position.between(first, last)).order_by("position")
        )
        return result_of([recorded_from_row(row) for row in rows], replayed=True)

    async def _write(
        self,
        connection: AsyncConnection,
        head: Head,
        stream_id: str,
        version: int,
        batch: list[Prepared],
        meta_text: str,
    ) -> list[RecordedEvent]:
        recorded_at = self._clock().astimezone(UTC)
        if head.recorded_at is not None and recorded_at < head.recorded_at:
            recorded_at = head.recorded_at  # record time never goes backwards along positions
        rows: list[dict[str, Any]] = []
        prev_hash = head.hash
        for offset, event in enumerate(batch, start=1):
            row: dict[str, Any] = {
                "position": head.position + offset,
                "stream_id": stream_id,
                "stream_version": version + offset,
                "event_id": event.event_id or uuid4(),
                "type": event.type,
                "schema_version": event.schema_version,
                "data": event.data,
                "metadata": meta_text,
                "recorded_at": recorded_at,
                "prev_hash": prev_hash,
            }
            row["hash"] = prev_hash = event_hash(**row)
            rows.append(row)
        await insert_rows(connection, await self._with_subtrees(connection, head, rows))
        return [recorded_from_values(row) for row in rows]

    async def import_events(
        self,
        batch: Sequence[RecordedEvent],
        *,
        hashes_checked: bool = False,
        subtrees: Sequence[bytes | None] | None = None,
    ) -> None:
        """Append events exactly as another log recorded them, continuing this log's chain.

        Each must follow the head (position and hash) and match its own hash; otherwise
        nothing of the batch is written. Projections fold them as they would any append.
        `hashes_checked`: the caller recomputed every event's hash from these very values and
        checked each payload against its type (`coop import` checks the whole file first),
        so neither is done again here (else a payload that is not its event is refused); their
        place in the chain still is. `subtrees`: each event's Merkle `subtrees` column, as
        the caller grew the tree from the head's frontier (the same check), so the tree is
        not grown here; a batch that does not follow that head is refused anyway.
        """
        if not batch:
            return
        async with write_transaction(self.engine) as connection:
            head = await _head(connection)
            check = ChainCheck(head.position, head.hash, head.recorded_at)
            for event in batch:
                problem = check.problem(event, hash_checked=hashes_checked)
                if problem is not None:
                    raise InvalidAppend(f"cannot import: {problem}")
                try:
                    check_stream_id(event.stream_id)
                except InvalidAppend as error:
                    raise InvalidAppend(
                        f"cannot import position {event.position}: {error}"
                    ) from None
                entry = self.types.get(event.type)
                if not 1 <= event.schema_version <= entry.version:
                    why = "newer than this version of Coop knows"
                    if event.schema_version < 1:
                        why = "versions start at 1"
                    raise InvalidAppend(
                        f"cannot import position {event.position}: {event.type} v"
                        f"{event.schema_version} is {why}"
                    )
                if not hashes_checked:  # else the caller checked the payloads with the hashes
                    text = msgspec.json.encode(event.data).decode()  # an upcaster changes a copy
                    problem = self.types.payload_problem(
                        event.type, event.schema_version, text, event.stream_id
                    ) or metadata_problem(event.metadata)
                    if problem is not None:
                        raise InvalidPayload(f"cannot import position {event.position}: {problem}")
            if subtrees is None:
                subtrees = await self._tree.grow(connection, head, [e.hash for e in batch])
            rows = [row_tuple(e, kept) for e, kept in zip(batch, subtrees, strict=True)]
            # The driver's bulk path (COPY on PostgreSQL): the rows are the log's own values.
            await backend_of(connection).write_rows(connection, events, rows)
            await _carry_idempotency_keys(connection, batch)
            await self._written(connection, batch)
        self._announced(result_of(batch))

    async def import_log(self, chunks: AsyncIterable[LogChunk]) -> int:
        """Write a whole log into this empty one in one transaction under the write lock;
        returns the number of events written.

        Each chunk is rows of the events table continuing the chain from position 1, with
        their Merkle `subtrees` column, each checked by the caller (hash, stream id, type,
        payload: `EventTypes.payload_problem`) as it read them, and the idempotency keys of
        the appends they hold (a chunk may cut an append: the parts of its key are joined);
        their place in the chain is checked here. No in-transaction listener runs (they
        take events, and these are rows): the caller folds the log after
        (`Projections.deferred`). The events table has only its primary key while they are
        written and its other indexes are made after (`Backend.unindexed`), so a duplicate
        they refuse is raised then. Anything raised, by a chunk refused or by the caller
        between chunks, rolls the whole import back.
        """
        written, last = 0, None
        async with write_transaction(self.engine) as connection:
            head = await _head(connection)
            if head.position:
                raise InvalidAppend(
                    f"cannot import a whole log: this one holds positions 1-{head.position}"
                )
            backend, check, keys = backend_of(connection), ChainCheck(), KeysCarried()
            async with backend.unindexed(connection, events):
                async for chunk in chunks:
                    if not chunk.rows:
                        continue
                    for row in chunk.rows:
                        problem = check.out_of_place(row.position, row.prev_hash)
                        if problem is not None:
                            raise InvalidAppend(f"cannot import: {problem}")
                        check.took(row.position, row.hash)
                    await backend.write_rows(connection, events, chunk.rows)
                    await keys.write(connection, chunk.keys, chunk.rows[-1].position)
                    written, last = written + len(chunk.rows), chunk.rows[-1]
                await keys.write(connection, [])
        if last is not None:
            # Announced as one append with no events: they are too many to hold, and a
            # change feed reads what it was not given.
            self._announced(AppendResult(last.stream_id, last.stream_version, 1, last.position))
        return written

    async def _with_subtrees(
        self, connection: AsyncConnection, head: Head, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`rows` (following `head`), each with the Merkle tree's subtrees it completes."""
        column = await self._tree.grow(connection, head, [row["hash"] for row in rows])
        for row, subtrees in zip(rows, column, strict=True):
            row["subtrees"] = subtrees
        return rows

    async def _written(
        self, connection: AsyncConnection, recorded: Sequence[RecordedEvent]
    ) -> None:
        """Run the in-transaction listeners (projections) on what was just written."""
        for listener in self._in_transaction:
            await listener(connection, recorded)

    def _announced(self, result: AppendResult) -> AppendResult:
        """Tell the commit listeners (the change feed) what was committed."""
        for committed in self._committed:
            committed(result)
        return result

    async def result_for_idempotency_key(
        self, key: str, request_digest: str | None = None
    ) -> AppendResult | None:
        """What the append made with this idempotency key wrote, or None if none did.

        Given the digest of the request now being retried, refuse a key that was first
        used for a different request.
        """
        async with self.engine.connect() as connection:
            return await self._keyed(connection, key, request_digest)

    async def _keyed(
        self, connection: AsyncConnection, key: str, request_digest: str | None
    ) -> AppendResult | None:
        """What the append with this key wrote; refused if the key came with another request
        (any request matches a key carried over by an import, or when no digest is given)."""
        query = select(idempotency_keys).where(idempotency_keys.c.key == key)
        row = (await connection.execute(query)).first()
        if row is None:
            return None
        if request_digest is not None and row.request_digest not in (
            request_digest,
            IMPORTED_DIGEST,
        ):
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a different request"
                f" (to stream {row.stream_id!r}); use a new key"
            )
        return await self._replayed(connection, row.first_position, row.last_position)

    async def stream_version(self, stream_id: str) -> int | None:
        """The stream's last version, or None when it has no events."""
        async with self.engine.connect() as connection:
            return await _stream_version(connection, stream_id)

    async def head(self, connection: AsyncConnection | None = None) -> Head:
        """The last position, its hash and record time (position 0 on an empty log); read on
        `connection` when given, so a reader sees the head on the connection it reads with."""
        if connection is not None:
            return await _head(connection)
        async with self.engine.connect() as own:
            # One statement needs no transaction: on PostgreSQL that saves the BEGIN and
            # ROLLBACK round trips around it, which a cached answer otherwise waited for.
            alone = await own.execution_options(isolation_level="AUTOCOMMIT")
            return await _head(alone)

    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        until: int | None = None,
        types: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
        newest_first: bool = False,
    ) -> list[RecordedEvent]:
        """One page of the log in position order (or, with `newest_first`, the last page
        before `until`, newest first), after a position, optionally filtered."""
        query = select(events).where(events.c.position > after)
        if until is not None:
            query = query.where(events.c.position <= until)
        if types:
            query = query.where(events.c.type.in_(list(types)))
        if streams:
            query = query.where(events.c.stream_id.in_(list(streams)))
        order = events.c.position.desc() if newest_first else events.c.position
        query = query.order_by(order).limit(limit)
        async with self.engine.connect() as connection:
            return [recorded_from_row(row) for row in await connection.execute(query)]

    async def iter_all(
        self,
        *,
        after: int = 0,
        until: int | None = None,
        page: int = 1000,
        types: Sequence[str] | None = None,
        streams: Sequence[str] | None = None,
    ) -> AsyncIterator[RecordedEvent]:
        """The whole log (or a range) page by page, never holding more than a page."""
        while True:
            batch = await self.read_all(
                after=after, limit=page, until=until, types=types, streams=streams
            )
            for event in batch:
                yield event
            if len(batch) < page:
                return
            after = batch[-1].position

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The events of one stream in version order, between two versions (inclusive)."""
        query = select(events).where(
            events.c.stream_id == stream_id, events.c.stream_version >= from_version
        )
        if to_version is not None:
            query = query.where(events.c.stream_version <= to_version)
        async with self.engine.connect() as connection:
            rows = await connection.execute(query.order_by(events.c.stream_version))
            return [recorded_from_row(row) for row in rows]

    async def count(
        self, *, types: Sequence[str] | None = None, streams: Sequence[str] | None = None
    ) -> int:
        """How many events the log holds, of these types and streams when given."""
        query = select(func.count()).select_from(events)
        if types:
            query = query.where(events.c.type.in_(list(types)))
        if streams:
            query = query.where(events.c.stream_id.in_(list(streams)))
        async with self.engine.connect() as connection:
            return (await connection.scalar(query)) or 0

    async def position_at(self, moment: datetime) -> int:
        """The last position recorded at or before `moment` (0 if none): record time as position."""
        query = select(func.max(events.c.position)).where(events.c.recorded_at <= moment)
        async with self.engine.connect() as connection:
            return (await connection.scalar(query)) or 0


def _event_id(given: object) -> UUID | None:
    """A given event id as a UUID: hashed as stored, so 'ABC…' and 'abc…' are one id."""
    if given is None or isinstance(given, UUID):
        return given
    try:
        return UUID(str(given))
    except ValueError:
        raise InvalidAppend(f"event id {given!r} is not a UUID") from None


async def insert_rows(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows of the events table (values as `row_values` gives them, with the Merkle
    tree's `subtrees` where they hold any), in one go. Every row names the same columns."""
    await backend_of(connection).insert_many(connection, events, rows)


class KeysCarried:
    """The idempotency keys imported appends carry over, so a retry after a move to another
    database replays instead of writing again: the first append with a key keeps it (one
    already in the table, `known`, keeps what it has)."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.known = known or set()
        self._open: CarriedKey | None = None  # of an append that may go on in the next batch

    async def write(
        self,
        connection: AsyncConnection,
        carried: Sequence[CarriedKey],
        last_position: int | None = None,
    ) -> None:
        """The keys of a batch of appends. With `last_position` (the batch's last event's),
        the batch may cut an append: the key of one that reaches it is held, and joined with
        the next batch's first where that one goes on from it (the same key and stream, the
        next position), as the log shows one append; the last batch is followed by a
        `write` with no keys and no `last_position`."""
        carried = list(carried)
        if self._open is not None:
            if carried and _goes_on(self._open, carried[0]):
                carried[0] = self._open._replace(last_position=carried[0].last_position)
            else:
                carried.insert(0, self._open)
            self._open = None
        if last_position is not None and carried and carried[-1].last_position == last_position:
            self._open = carried.pop()
        rows = []
        for key, stream_id, first, last in carried:
            if key in self.known:
                continue
            self.known.add(key)
            rows.append(
                {
                    "key": key,
                    "stream_id": stream_id,
                    "request_digest": IMPORTED_DIGEST,
                    "first_position": first,
                    "last_position": last,
                }
            )
        if rows:
            await connection.execute(insert(idempotency_keys), rows)


def _goes_on(before: CarriedKey, key: CarriedKey) -> bool:
    return (key.key, key.stream_id, key.first_position) == (
        before.key,
        before.stream_id,
        before.last_position + 1,
    )


async def _carry_idempotency_keys(
    connection: AsyncConnection, batch: Sequence[RecordedEvent]
) -> None:
    """The batch's idempotency keys written; a key already there (an append cut by the
    batch boundary) keeps what it has."""
    carried = carried_keys(batch)
    if carried:
        names = [key for key, *_ in carried]
        query = select(idempotency_keys.c.key).where(idempotency_keys.c.key.in_(names))
        known = KeysCarried(set((await connection.execute(query)).scalars()))
        await known.write(connection, carried)


def _check_expected(stream_id: str, expected: ExpectedVersion, actual: int | None) -> None:
    if expected is Expect.ANY:
        return
    if expected is Expect.NO_STREAM:
        if actual is not None:
            raise ConcurrencyConflict(stream_id, expected, actual)
        return
    if actual != expected:
        raise ConcurrencyConflict(stream_id, f"version {expected}", actual)


async def _stream_version(connection: AsyncConnection, stream_id: str) -> int | None:
    query = select(func.max(events.c.stream_version)).where(events.c.stream_id == stream_id)
    version: int | None = await connection.scalar(query)
    return version


async def _lock_and_read_head(
    connection: AsyncConnection, stream_id: str
) -> tuple[Head, int | None]:
    """Take the log's write lock (if the transaction does not hold it yet), then read the
    head and the stream's last version."""
    row = await backend_of(connection).lock_and_read_head(connection, stream_id)
    if row is None:
        return Head(0, GENESIS_HASH, None), None  # an empty log has no streams
    return Head(row.position, row.hash, row.recorded_at), row.version


async def _head(connection: AsyncConnection) -> Head:
    query = select(events.c.position, events.c.hash, events.c.recorded_at)
    row = (await connection.execute(query.order_by(events.c.position.desc()).limit(1))).first()
    if row is None:
        return Head(0, GENESIS_HASH, None)
    return Head(row.position, row.hash, row.recorded_at)


def _request_digest(stream_id: str, batch: list[Prepared]) -> str:
    parts = [stream_id] + [
        [event.type, event.data, str(event.event_id) if event.event_id else None] for event in batch
    ]
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()
