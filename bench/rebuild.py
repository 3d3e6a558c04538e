"""Rebuild and import against the rates at which the same log can be read and written raw.

Run by `make bench`, never by the tests. On each engine (SQLite in a file in a temporary
directory; PostgreSQL in a fresh database beside COOP_BENCH_POSTGRES_URL's, dropped after)
it writes bench/temporal.py's synthetic log of `--events` events (the log alone, no
projector attached), then, in the same run:

1. raw read: a keyset read of every event by position through the driver (every column,
   5,000 a page), each payload and metadata decoded with msgspec: the rate at which the
   log can be read and decoded;
2. rebuild: `coop projections rebuild` (all 7 projections, one pass) in a process of its
   own, timed from start to exit, with its peak memory (its VmHWM, read every 50 ms);
3. raw read again (the load moves: both are shown and the ratio uses their mean);
   then `coop verify` of the whole log (the chain, a replay of it into a fresh SQLite file
   and its 7 projections compared with the rebuilt ones, the Merkle tree) in a process of
   its own, timed, with its peak memory and its check processes', against the same mean
   (no target: the time an auditor waits for a verdict);
4. raw insert: the same rows copied into a table of the events table's columns with only
   its primary key, 5,000 rows a transaction, by COPY on PostgreSQL and executemany on
   SQLite (the rows are read back from the log outside the timed part);
5. import: `coop export` of the log to a file, then `coop import FILE` into an empty,
   migrated database in a process of its own, timed (it checks the whole file against the
   chain, writes the log and folds all 7 projections), with its peak memory.

Targets (issue 15): rebuild >= 0.5x the raw read rate; import >= 0.5x the raw insert rate;
1,000,000 events rebuilt in <= 2 minutes per engine with peak memory <= 1 GB.

    .venv/bin/python bench/rebuild.py [--events N] [--engines sqlite,postgres] [--seed N]
        [--no-import]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/rebuild.py`, this file's folder comes first on sys.path, where
# bench/graphql.py would shadow the `graphql` package: the repository root takes its place.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from itertools import islice
from typing import Any

import msgspec
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.support import database, machine
from bench.temporal import synthetic_log
from domain.events import cooperation_events
from events.backends import backend_of
from events.database import create_engine, write_transaction
from events.store import EventStore
from events.tables import events
from service.migrate import upgrade

EVENTS = 1_000_000
PAGE = 5000
WRITE_BATCH = 1000
TARGET = 0.5
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    seconds: float
    peak_mib: float


def coop(url: str, *args: str, stdout: Any = subprocess.DEVNULL) -> Run:
    """`coop ARGS` on the database at `url` in a process of its own: wall time, peak RSS."""
    env = {**os.environ, "COOP_DATABASE_URL": url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )
    # Its own high-water mark and its children's (an import checks its file in one), read
    # while they run: wait4's ru_maxrss would report this process's size instead, which the
    # child had before its exec (the same for every run). The sum of each one's peak.
    peaks: dict[int, int] = {}
    while True:
        time.sleep(0.05)
        pid, status, _ = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        for each in [process.pid, *children(process.pid)]:
            peaks[each] = max(peaks.get(each, 0), high_water_kib(each))
    seconds = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"coop {' '.join(args)} failed: {error}")
    return Run(seconds, sum(peaks.values()) / 1024)


def children(pid: int) -> list[int]:
    """The processes a running process started (none once it is gone)."""
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return []


def high_water_kib(pid: int) -> int:
    """A running process's peak resident size (VmHWM), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


async def write_log(url: str, count: int, seed: int) -> float:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        store = EventStore(engine, cooperation_events)
        started = time.perf_counter()
        log = synthetic_log(seed, count)
        while batch := list(islice(log, WRITE_BATCH)):
            await store.import_events(batch, hashes_checked=True)  # chained just now
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def pages(engine: AsyncEngine) -> Any:
    """Every row of the log by keyset, a page at a time, through the driver."""
    sqlite = engine.dialect.name == "sqlite"
    query = (
        "SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?"
        if sqlite
        else "SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT $2"
    )
    after = 0
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        while True:
            if sqlite:
                cursor = await driver.execute(query, (after, PAGE))
                rows = await cursor.fetchall()
                await cursor.close()
            else:
                rows = await driver.fetch(query, after, PAGE)
            if not rows:
                return
            yield rows
            after = rows[-1][0]


async def raw_read(url: str) -> float:
    """Events a second: every event read by keyset, payload and metadata decoded."""
    engine = create_engine(url)
    data, meta = (events.c.keys().index(name) for name in ("data", "metadata"))
    decode = msgspec.json.decode
    try:
        started, count = time.perf_counter(), 0
        async for rows in pages(engine):
            for row in rows:
                decode(row[data])
                decode(row[meta])
            count += len(rows)
        return count / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def raw_insert(url: str) -> float:
    """Events a second: the log's rows written into a plain copy of the events table (its
    columns and primary key only), a transaction a page; only the writes are timed."""
    engine = create_engine(url)
    columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in events.columns]
    plain = Table("raw_events", MetaData(), *columns)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(plain.drop, checkfirst=True)
            await connection.run_sync(plain.create)
        reader = create_engine(url)
        backend, seconds, count = backend_of(engine), 0.0, 0
        async for rows in pages(reader):
            records = [tuple(row) for row in rows]
            started = time.perf_counter()
            async with write_transaction(engine, lock=False) as connection:
                if engine.dialect.name == "sqlite":
                    driver: Any = (await connection.get_raw_connection()).driver_connection
                    marks = ", ".join("?" for _ in plain.columns)
                    await driver.executemany(f"INSERT INTO raw_events VALUES ({marks})", records)
                else:
                    await backend.write_rows(connection, plain, records)  # COPY
            seconds += time.perf_counter() - started
            count += len(records)
        await reader.dispose()
        async with engine.begin() as connection:
            await connection.run_sync(plain.drop)
        return count / seconds
    finally:
        await engine.dispose()


async def bench_engine(engine: str, args: argparse.Namespace) -> list[str]:
    lines = []
    async with database(engine, label="rebuild") as url, database(engine, label="imported") as to:
        wrote = await write_log(url, args.events, args.seed)
        print(f"{engine}: wrote the log in {wrote:.0f} s", file=sys.stderr, flush=True)
        read_before = await raw_read(url)
        rebuilt = coop(url, "projections", "rebuild")
        read_after = await raw_read(url)
        read = (read_before + read_after) / 2
        baseline = f"raw read {read_before:,.0f} / {read_after:,.0f}"
        lines.append(row(engine, "rebuild, all 7", args.events, rebuilt, baseline, read))
        verified = coop(url, "verify")
        mean = "raw read (the mean above)"
        lines.append(row(engine, "verify, whole log", args.events, verified, mean, read, False))
        if args.no_import:
            return lines
        inserted = await raw_insert(url)
        with tempfile.TemporaryDirectory(prefix="coop_bench_") as folder:
            export = Path(folder) / "log.ndjson"
            with export.open("wb") as out:
                coop(url, "export", stdout=out)
            migrate = create_engine(to)
            await upgrade(migrate)
            await migrate.dispose()
            imported = coop(to, "import", str(export))
        baseline = f"raw insert {inserted:,.0f}"
        lines.append(row(engine, "import, all 7", args.events, imported, baseline, inserted))
    return lines


def row(
    engine: str,
    what: str,
    events: int,
    ran: Run,
    baseline: str,
    rate: float,
    target: bool = True,
) -> str:
    """A line of the table, printed as it is made: `ran`'s rate against the `baseline`'s
    `rate` (in bold where the ratio has a target)."""
    own = events / ran.seconds
    ratio = f"{own / rate:.2f}"
    line = (
        f"| {engine} | {what} | {events:,} | {ran.seconds:,.0f} s | {own:,.0f} | {baseline}"
        f" | {f'**{ratio}**' if target else ratio} | {ran.peak_mib:,.0f} MiB |"
    )
    print(line, flush=True)
    return line


HEADER = (
    "| engine | what | events | time | ev/s | baseline ev/s (same run) | ratio | peak memory |\n"
    "|---|---|---:|---:|---:|---|---:|---:|"
)


async def run(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    print(f"machine: {await machine(engines)}")
    print(f"log: bench/temporal.py's synthetic history, {args.events:,} events, seed {args.seed}")
    print(f"targets: ratios >= {TARGET}; rebuild of 1,000,000 <= 120 s and <= 1 GiB\n")
    print(HEADER, flush=True)
    for engine in engines:
        await bench_engine(engine, args)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument("--no-import", action="store_true", help="the rebuild alone")
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    asyncio.run(run(arguments()))


if __name__ == "__main__":
    main()
