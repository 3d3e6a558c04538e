"""The Merkle tree's costs: proofs and checkpoints on a large log, and what keeping the tree
adds to an append.

Run by `make bench`, never by the tests. On each engine:

- proofs: a log of --events events (1,000,000 by default) is written in bulk with its tree
  (events with small payloads and random hashes: proofs and checkpoints never read the
  events' content), then inclusion proofs for random positions in the whole tree, and
  consistency proofs between random sizes, are timed one at a time (each in its own
  connection, as a request would be), and so is a signed checkpoint;
- appends: the store as it is (the tree's subtrees written in the events' own rows) against
  the same store with the tree switched off (the append as it was before the tree, but for
  the NULL it writes in that column), batches of 1 and 100,
  alternating between two databases so both see the same machine. The ratio is of the
  rates (events over the time of all batches); "median" is the ratio of the median batch
  times, which a stall of the shared machine during a few batches does not move; "cpu" is
  the ratio of the CPU time this process spent in the appends (on SQLite all of the work,
  the engine running in the process; on PostgreSQL the client's share), which the load of
  other processes moves least.

    .venv/bin/python bench/proofs.py [--events N] [--appends N] [--engines sqlite,postgres]

(--events 0 or --appends 0 leaves that part out.)
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.append import METADATA, STREAMS, bench_event, bench_types
from bench.support import database, machine, quantile
from events.backends import backend_of
from events.checkpoints import record_checkpoint
from events.database import create_engine, write_transaction
from events.kept import kept_subtrees
from events.merkle import Frontier, verify_consistency, verify_inclusion
from events.model import Head
from events.store import EventStore
from events.tables import events
from events.tree import (
    LogTree,
    leaf_of,
    prove_consistency,
    prove_inclusion,
    root_at,
)
from service.migrate import upgrade
from service.signing import SigningKey

WRITE_PAGE = 20_000
SAMPLES = 300


class NoTree(LogTree):
    """The append as it was before the tree: no node computed, none written."""

    async def grow(
        self, connection: AsyncConnection, head: Head, hashes: Sequence[str]
    ) -> list[bytes | None]:
        return [None] * len(hashes)


# --- a large log, written in bulk -----------------------------------------------------------


async def write_log(engine: AsyncEngine, count: int) -> None:
    frontier, moment = Frontier(), datetime.now(UTC)
    backend = backend_of(engine)
    for start in range(1, count + 1, WRITE_PAGE):
        rows = [
            {
                "position": position,
                "stream_id": f"s-{position % STREAMS}",
                "stream_version": position // STREAMS + 1,
                "event_id": uuid.uuid4(),
                "type": "AgreementNoted",
                "schema_version": 1,
                "data": "{}",
                "metadata": "{}",
                "recorded_at": moment,
                "prev_hash": "0" * 64,
                "hash": os.urandom(32).hex(),
            }
            for position in range(start, min(start + WRITE_PAGE, count + 1))
        ]
        column = kept_subtrees(frontier, [row["hash"] for row in rows])
        for row, subtrees in zip(rows, column, strict=True):
            row["subtrees"] = subtrees
        async with write_transaction(engine) as connection:
            await backend.insert_many(connection, events, rows)
        print(f"\r  written {rows[-1]['position']:,}", end="", flush=True)
    print()


async def time_proofs(engine: AsyncEngine, size: int) -> dict[str, list[float]]:
    async with engine.connect() as connection:
        roots = {size: await root_at(connection, size)}
    chooser = random.Random(7)
    times: dict[str, list[float]] = {"inclusion": [], "consistency": []}
    for _ in range(SAMPLES):
        position = chooser.randint(1, size)
        start = time.perf_counter()
        path = await prove_inclusion(engine, position, size)
        times["inclusion"].append(time.perf_counter() - start)
        async with engine.connect() as connection:
            leaf = await connection.scalar(
                select(events.c.hash).where(events.c.position == position)
            )
        assert verify_inclusion(position - 1, size, leaf_of(str(leaf)), path, roots[size])
    for _ in range(SAMPLES // 3):
        first = chooser.randint(1, size - 1)
        start = time.perf_counter()
        proof = await prove_consistency(engine, first, size)
        times["consistency"].append(time.perf_counter() - start)
        async with engine.connect() as connection:
            old_root = await root_at(connection, first)
        assert verify_consistency(first, size, old_root, roots[size], proof)
    return times


async def time_checkpoints(engine: AsyncEngine) -> list[float]:
    key = SigningKey(Ed25519PrivateKey.generate())
    times = []
    for _ in range(20):
        start = time.perf_counter()
        await record_checkpoint(engine, key, lambda: datetime.now(UTC))
        times.append(time.perf_counter() - start)
    return times


def ms(values: list[float], q: int) -> str:
    return f"{quantile(values, q) * 1000:.2f}"


async def bench_proofs(engine_name: str, count: int) -> None:
    async with database(engine_name, label="proofs") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            start = time.perf_counter()
            await write_log(engine, count)
            print(
                f"  {count:,} events and their tree written in {time.perf_counter() - start:.0f} s"
            )
            proofs = await time_proofs(engine, count)
            checkpoints = await time_checkpoints(engine)
        finally:
            await engine.dispose()
    for name, values in (*proofs.items(), ("checkpoint", checkpoints)):
        print(
            f"{engine_name:<10}{name:<13}{len(values):>8}{ms(values, 50):>10}{ms(values, 95):>10}"
            f"{ms(values, 99):>10}{max(values) * 1000:>10.2f}"
        )


# --- appends with and without the tree ------------------------------------------------------


async def bench_appends(engine_name: str, counts: dict[int, int]) -> None:
    async with (
        database(engine_name, label="proofs_tree") as with_url,
        database(engine_name, label="proofs_plain") as plain_url,
    ):
        engines = [create_engine(with_url), create_engine(plain_url)]
        try:
            for engine in engines:
                await upgrade(engine)
            kept, plain = (EventStore(engine, bench_types) for engine in engines)
            plain._tree = NoTree()
            sequence = 0
            for batch, count in counts.items():
                seconds: dict[str, list[float]] = {"tree": [], "plain": []}
                cpu = {"tree": 0.0, "plain": 0.0}
                for number in range(count // batch):
                    batch_events = [bench_event(sequence + n) for n in range(batch)]
                    sequence += batch
                    stream = f"bench-{number % STREAMS}"
                    order = [("tree", kept), ("plain", plain)]
                    for name, store in order if number % 2 else order[::-1]:
                        start, start_cpu = time.perf_counter(), time.process_time()
                        await store.append(stream, batch_events, metadata=METADATA)
                        seconds[name].append(time.perf_counter() - start)
                        cpu[name] += time.process_time() - start_cpu
                tree_rate = count / sum(seconds["tree"])
                plain_rate = count / sum(seconds["plain"])
                typical = statistics.median(seconds["plain"]) / statistics.median(seconds["tree"])
                print(
                    f"{engine_name:<10}{batch:>6}{count:>9,}{tree_rate:>13,.0f}"
                    f"{plain_rate:>13,.0f}{tree_rate / plain_rate:>8.3f}{typical:>9.3f}"
                    f"{cpu['plain'] / cpu['tree']:>8.3f}",
                    flush=True,
                )
        finally:
            for engine in engines:
                await engine.dispose()


async def run(engines: list[str], count: int, appends: int) -> None:
    print(await machine(engines))
    if count:
        print(f"\nproofs and checkpoints in a log of {count:,} events (ms)")
        print(
            f"{'engine':<10}{'what':<13}{'samples':>8}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>10}"
        )
        for engine in engines:
            await bench_proofs(engine, count)
    if not appends:
        return
    print("\nappends with the tree against the same store without it (events/s)")
    print(
        f"{'engine':<10}{'batch':>6}{'events':>9}{'with tree':>13}{'without':>13}{'ratio':>8}"
        f"{'median':>9}{'cpu':>8}"
    )
    for engine in engines:
        await bench_appends(engine, {1: max(appends // 10, 100), 100: appends})
    print(f"\n{await machine(engines)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="the large log's size (0: no proofs)"
    )
    parser.add_argument(
        "--appends", type=int, default=40_000, help="events at batch 100 (0: no appends)"
    )
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    args = parser.parse_args()
    asyncio.run(run(args.engines.split(","), args.events, args.appends))


if __name__ == "__main__":
    main()
