"""Global order under racing writers: positions are gap-free and follow commit order."""

from __future__ import annotations

import asyncio
import itertools

from events.model import Expect, Metadata
from events.store import EventStore
from tests.store.kinds import ThingNamed

WRITERS = 6
BATCHES = 15


async def write(store: EventStore, writer: int) -> None:
    for batch in range(BATCHES):
        size = 1 + (writer + batch) % 3
        events = [ThingNamed(f"w{writer}-{batch}-{n}", []) for n in range(size)]
        await store.append(f"writer:{writer}", events)


async def tail(store: EventStore, done: asyncio.Event, seen: list[int]) -> None:
    """Read after the last seen position until the writers finish; never find an older one."""
    while True:
        finished = done.is_set()
        page = await store.read_all(after=seen[-1] if seen else 0)
        for event in page:
            expected = (seen[-1] if seen else 0) + 1
            assert event.position == expected, f"found {event.position} after {expected - 1}"
            seen.append(event.position)
        if finished and not page:
            return
        await asyncio.sleep(0)


async def test_racing_writers_and_a_tailing_reader_see_one_gap_free_order(
    store: EventStore,
) -> None:
    done = asyncio.Event()
    seen: list[int] = []
    reader = asyncio.create_task(tail(store, done, seen))
    await asyncio.gather(*(write(store, w) for w in range(WRITERS)))
    done.set()
    await reader

    log = await store.read_all(limit=10_000)
    total = sum(1 + (w + b) % 3 for w in range(WRITERS) for b in range(BATCHES))
    assert [e.position for e in log] == list(range(1, total + 1))
    assert seen == list(range(1, total + 1))
    for writer in range(WRITERS):
        versions = [e.stream_version for e in log if e.stream_id == f"writer:{writer}"]
        assert versions == list(range(1, len(versions) + 1))
    assert all(a.recorded_at <= b.recorded_at for a, b in itertools.pairwise(log))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(log))


async def test_racing_retries_of_one_idempotency_key_write_once(store: EventStore) -> None:
    meta = Metadata(idempotency_key="race-1")
    batch = [ThingNamed("once", [])]
    results = await asyncio.gather(
        *(store.append("thing:once", batch, Expect.NO_STREAM, meta) for _ in range(WRITERS))
    )

    assert [r.replayed for r in results].count(False) == 1
    assert {(r.first_position, r.events[0].event_id) for r in results} == {
        (1, results[0].events[0].event_id)
    }
    assert await store.count() == 1
