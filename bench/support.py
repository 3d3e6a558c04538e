"""What the benchmarks share: scratch databases, the machine they ran on, a valid log made
from domain events, and quantiles.

Each script puts the repository root first on sys.path (its own folder would shadow the
`graphql` package with bench/graphql.py) and imports this as `bench.support`.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from domain.events import DomainEvent, cooperation_events
from events.chain import GENESIS_HASH, canonical_json, event_hash
from events.database import create_engine
from events.model import Metadata, RecordedEvent
from tests.databases import scratch_postgres_database

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    """The database beside which benchmarks make their own (COOP_BENCH_POSTGRES_URL)."""
    return os.environ.get("COOP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@asynccontextmanager
async def sqlite_database(directory: str | None = None, label: str = "coop") -> AsyncIterator[str]:
    """A file in `directory`, or in a temporary folder removed afterwards."""
    if directory is not None:
        yield f"sqlite:///{directory}/{label}.db"
        return
    with tempfile.TemporaryDirectory(prefix="coop_bench_") as folder:
        yield f"sqlite:///{folder}/{label}.db"


def database(
    engine: str, directory: str | None = None, label: str = "coop"
) -> AbstractAsyncContextManager[str]:
    """A fresh, empty database on `engine` ("sqlite" or "postgres"), its name beginning with
    `label`; yields its URL."""
    if engine == "sqlite":
        return sqlite_database(directory, label)
    return scratch_postgres_database(postgres_admin_url(), f"coop_bench_{label}")


async def postgres_version() -> str:
    engine = create_engine(postgres_admin_url())
    try:
        async with engine.connect() as connection:
            version = (await connection.exec_driver_sql("SHOW server_version")).scalar_one()
            return f"PostgreSQL {version}"
    except Exception as error:
        return f"PostgreSQL unavailable ({type(error).__name__})"
    finally:
        await engine.dispose()


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


async def machine(engines: Sequence[str]) -> str:
    """The date, the machine, the versions and the load, for a figure's caption."""
    parts = [
        datetime.now(UTC).strftime("%Y-%m-%d"),
        f"{os.cpu_count()} CPUs ({platform.machine()})",
        f"{memory_gib():.0f} GiB",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgres" in engines:
        parts.append(await postgres_version())
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return ", ".join(parts) + f"; load average {load}"


def quantile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1-99); the value itself for a single one."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


PLAIN: Mapping[str, Any] = msgspec.to_builtins(Metadata(actor="bench"))


def chained(
    events: Iterable[tuple[DomainEvent, Mapping[str, Any]]], seed: int = 1
) -> Iterator[RecordedEvent]:
    """Domain events (each with its metadata) as a valid hash-chained log, as the store
    would write it: positions, stream versions, ids, record times 20 s apart, hashes."""
    rng = random.Random(seed)
    versions: dict[str, int] = {}
    texts: dict[int, tuple[Mapping[str, Any], str]] = {}  # by identity: few distinct ones
    prev_hash = GENESIS_HASH
    start = datetime(2021, 1, 1, tzinfo=UTC)
    for position, (event, metadata) in enumerate(events, start=1):
        new = cooperation_events.to_new_event(event)  # a valid domain object: a valid payload
        data = dict(new.data)
        stream = event.stream
        versions[stream] = version = versions.get(stream, 0) + 1
        known = texts.get(id(metadata))
        if known is None or known[0] is not metadata:
            known = texts[id(metadata)] = (metadata, canonical_json(metadata))
        meta_text = known[1]
        values: dict[str, Any] = {
            "position": position,
            "stream_id": stream,
            "stream_version": version,
            "event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "type": new.type,
            "schema_version": cooperation_events.get(new.type).version,
            "recorded_at": start + timedelta(seconds=20 * position),
        }
        digest = event_hash(prev_hash, **values, data=canonical_json(data), metadata=meta_text)
        yield RecordedEvent(
            **values, data=data, metadata=dict(metadata), prev_hash=prev_hash, hash=digest
        )
        prev_hash = digest
