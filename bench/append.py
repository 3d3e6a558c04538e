"""Append throughput: EventStore.append against a raw INSERT of rows of the same size.

Run by `make bench`, never by the tests. On each engine (SQLite in a file in a temporary
directory; PostgreSQL in a fresh database beside COOP_BENCH_POSTGRES_URL's, dropped after)
it appends events in batches of 1 and of 100, one transaction per batch, through the store
and as plain INSERTs into a table with the same columns and only a primary key, on the same
engine and driver (SQLAlchemy Core executemany), and prints events per second and the ratio
store/raw. On PostgreSQL it also times the fastest raw form, one `INSERT ... SELECT FROM
unnest(...)` per batch (the form the store itself uses there), into a third table of the
same shape: store/bulk is the store against that. Store and raw batches alternate, so all
see the same machine and the same growth of their tables; each is timed on its own.

    .venv/bin/python bench/append.py [--events N] [--batch1-events N] [--engines sqlite,postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/append.py`, this file's folder comes first on sys.path, where
# bench/graphql.py would shadow the `graphql` package Strawberry is built on: the
# repository root takes its place, for `bench.support`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Column, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.support import database
from events.backends.postgresql import unnest_insert
from events.chain import canonical_json
from events.database import create_engine
from events.model import Metadata
from events.registry import EventTypes
from events.store import EventStore
from events.tables import events
from service.migrate import upgrade

DEFAULT_EVENTS = 100_000
DEFAULT_BATCH1_EVENTS = 20_000  # batch 1 costs a round trip per event: the rate is what counts
BATCH_SIZES = (1, 100)
STREAMS = 1000  # appends go to streams in turn, as many writers' would
METADATA = Metadata(actor="bench", reason="append benchmark", correlation_id="bench-run")

T = TypeVar("T")

bench_types = EventTypes()


@bench_types.register()
@dataclass(frozen=True)
class AgreementNoted:
    """A realistic event: about 250 bytes of canonical JSON."""

    agreement: str
    partner_city: str
    country: str
    field: str
    summary: str
    signed_on: str
    tags: list[str]
    sequence: int


def same_shape(name: str) -> Table:
    """Same columns and types as the events table, but only the primary key: no other index."""
    return Table(
        name,
        raw_metadata,
        *(
            Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False, nullable=False)
            for c in events.columns
        ),
    )


raw_metadata = MetaData()
raw_events = same_shape("bench_raw_events")
bulk_events = same_shape("bench_bulk_events")
BULK_INSERT = unnest_insert(bulk_events)


@dataclass(frozen=True)
class Measure:
    engine: str
    batch: int
    events: int
    store_rate: float
    raw_rate: float
    bulk_rate: float | None  # PostgreSQL only

    @property
    def ratio(self) -> float:
        return self.store_rate / self.raw_rate


def bench_event(sequence: int) -> AgreementNoted:
    return AgreementNoted(
        agreement=f"agreement-{sequence:08d}",
        partner_city="Porto Alegre",
        country="BR",
        field="climate_action",
        summary="Exchange of engineers on bus rapid transit planning and shared ticketing data.",
        signed_on="2024-03-18",
        tags=["mobility", "transit", "technical exchange"],
        sequence=sequence,
    )


def raw_row(position: int, event: AgreementNoted, meta_text: str) -> dict[str, Any]:
    """A row of the events' shape and size, built ahead so the timing is the INSERT alone."""
    return {
        "position": position,
        "stream_id": f"bench-{position % STREAMS}",
        "stream_version": position,
        "event_id": uuid.uuid4(),
        "type": "AgreementNoted",
        "schema_version": 1,
        "data": canonical_json(bench_types.payload(event)),
        "metadata": meta_text,
        "recorded_at": datetime.now(UTC),
        "prev_hash": os.urandom(32).hex(),
        "hash": os.urandom(32).hex(),
    }


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def measure(engine: AsyncEngine, name: str, batch: int, count: int, first: int) -> Measure:
    """Append `count` events in batches of `batch`; raw rows take positions from `first`."""
    domain = [bench_event(first + n) for n in range(count)]
    meta_text = canonical_json(msgspec.to_builtins(METADATA))
    rows = [raw_row(first + n, event, meta_text) for n, event in enumerate(domain)]
    store = EventStore(engine, bench_types)
    bulk = engine.dialect.name == "postgresql"
    seconds = {"store": 0.0, "raw": 0.0, "bulk": 0.0}
    batches = zip(chunks(domain, batch), chunks(rows, batch), strict=True)
    for number, (events_in, rows_in) in enumerate(batches):
        start = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(insert(raw_events), rows_in)
        seconds["raw"] += time.perf_counter() - start
        if bulk:
            start = time.perf_counter()
            async with engine.begin() as connection:
                columns = tuple([row[c.name] for row in rows_in] for c in bulk_events.columns)
                await connection.exec_driver_sql(BULK_INSERT, columns)
            seconds["bulk"] += time.perf_counter() - start
        start = time.perf_counter()
        await store.append(f"bench-{number % STREAMS}", events_in, metadata=METADATA)
        seconds["store"] += time.perf_counter() - start
    return Measure(
        name,
        batch,
        count,
        count / seconds["store"],
        count / seconds["raw"],
        count / seconds["bulk"] if bulk else None,
    )


async def bench_engine(url: str, name: str, counts: dict[int, int]) -> list[Measure]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(raw_metadata.create_all)
        results, first = [], 1
        for batch, count in counts.items():
            results.append(await measure(engine, name, batch, count, first))
            print(row_text(results[-1]), flush=True)
            first += count
        return results
    finally:
        await engine.dispose()


HEADER = (
    f"{'engine':<10}{'batch':>6}{'events':>10}{'store ev/s':>13}{'raw ev/s':>12}{'store/raw':>11}"
    f"{'bulk ev/s':>12}{'store/bulk':>12}"
)


def row_text(m: Measure) -> str:
    bulk = (
        f"{m.bulk_rate:>12,.0f}{m.store_rate / m.bulk_rate:>12.2f}"
        if m.bulk_rate
        else f"{'-':>12}{'-':>12}"
    )
    return (
        f"{m.engine:<10}{m.batch:>6}{m.events:>10,}"
        f"{m.store_rate:>13,.0f}{m.raw_rate:>12,.0f}{m.ratio:>11.2f}{bulk}"
    )


def verdict(results: list[Measure]) -> str:
    target = [m for m in results if m.engine == "postgres" and m.batch == 100]
    if not target:
        return "target (PostgreSQL, batch 100, store/raw >= 0.50): not measured in this run"
    held = "holds" if target[0].ratio >= 0.5 else "does NOT hold"
    return f"target (PostgreSQL, batch 100, store/raw >= 0.50): {held} ({target[0].ratio:.2f})"


async def run(engines: list[str], counts: dict[int, int]) -> None:
    print(f"events per batch size: {', '.join(f'batch {b}: {n:,}' for b, n in counts.items())}")
    print("one transaction per batch; raw = INSERT (executemany) into a same-shaped table with")
    print("only a PK; bulk = one INSERT ... SELECT FROM unnest(...) per batch (PostgreSQL)\n")
    print(HEADER, flush=True)
    results: list[Measure] = []
    for engine in engines:
        async with database(engine) as url:
            results += await bench_engine(url, engine, counts)
    print(f"\n{verdict(results)}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events at batch 100")
    parser.add_argument(
        "--batch1-events",
        type=int,
        help=f"events at batch 1 (default: the smaller of --events and {DEFAULT_BATCH1_EVENTS:,})",
    )
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = arguments()
    batch1 = args.batch1_events or min(args.events, DEFAULT_BATCH1_EVENTS)
    asyncio.run(run(args.engines.split(","), {1: batch1, 100: args.events}))


if __name__ == "__main__":
    main()
