"""Running `coop` verbs against the test databases, and a sampled log to run them on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import MembershipCorrected
from events.database import create_engine
from events.dates import PartialDate
from events.model import Head, Metadata, SourceRef
from events.store import EventStore
from service.cli import main
from service.migrate import upgrade
from service.services import Services, build_services
from service.settings import Settings
from tests.conftest import ENGINES, create_postgres_database, drop_postgres_database
from tests.projections.sample import record_sample


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Coop = Callable[..., Awaitable[Ran]]


@pytest.fixture
def coop(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Coop:
    """`await coop(url, "verify")` runs the command line on the database at `url`."""

    async def run(url: str, *args: str) -> Ran:
        monkeypatch.setenv("COOP_DATABASE_URL", url)
        capsys.readouterr()
        # In a thread: the command line starts an event loop of its own.
        code = await asyncio.to_thread(main, list(args))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


CORRECTION = MembershipCorrected(
    membership_id="city-1@c40#1",
    member="city-1",
    network="c40",
    since=PartialDate.parse("2001-04"),
    notes=["n1", "checked"],
    corrected_fields=["since", "notes"],
)
SOURCED = Metadata(
    actor="auditor-test", reason="the minutes give April", source=SourceRef("doc", "A")
)
HEAD = 22  # the sample's last position


async def record_audit_sample(store: EventStore) -> None:
    """The projection tests' sample (21 events), then a sourced correction at position 22."""
    await record_sample(store, cities=4)
    await store.append("membership:city-1@c40", [CORRECTION], metadata=SOURCED)


@pytest.fixture
async def sampled(services: Services) -> Services:
    """A database of its own on each engine holding the sample, for tests that alter it."""
    await record_audit_sample(services.store)
    return services


@pytest_asyncio.fixture(scope="package", loop_scope="package", params=ENGINES)
async def sampled_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The sample on each engine, made once for all of tests/audit, for tests that only read it."""
    async for url in _empty_database(request.param, tmp_path_factory.mktemp("sampled")):
        services = build_services(Settings(database_url=url))
        try:
            await services.start()
            await record_audit_sample(services.store)
        finally:
            await services.close()
        yield url


async def _empty_database(engine_name: str, tmp_path: Path) -> AsyncIterator[str]:
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        url = await create_postgres_database()
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        if engine_name == "postgres":
            await drop_postgres_database(url)


@pytest.fixture
async def empty_url(sampled_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database on the engine of `sampled_url`."""
    engine_name = "postgres" if sampled_url.startswith("postgresql") else "sqlite"
    async for url in _empty_database(engine_name, tmp_path):
        yield url


@pytest.fixture(params=ENGINES)
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database on each engine (for copies across engines)."""
    async for url in _empty_database(request.param, tmp_path):
        yield url


async def head_and_digests(url: str) -> tuple[Head, dict[str, str]]:
    """What an auditor compares between two databases: the head and every projection digest."""
    services = build_services(Settings(database_url=url))
    try:
        return await services.store.head(), await services.projections.digests()
    finally:
        await services.close()


async def drop_guards(engine: AsyncEngine) -> None:
    """Take away the triggers that refuse edits of the log, as a forger with the keys would."""
    if engine.dialect.name == "postgresql":
        statements = ["DROP TRIGGER events_append_only ON events"]
    else:
        statements = ["DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
