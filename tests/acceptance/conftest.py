"""A real uvicorn server over a migrated, seeded database, on SQLite and on PostgreSQL.

SQLite databases are copied from one seeded template per session (to keep the suite
fast); PostgreSQL databases are created, migrated and seeded per test (or per module for
the read-only modules, through `shared`).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from events.database import create_engine
from service.app import create_app
from service.migrate import upgrade
from service.seeding import load_seed
from service.services import build_services
from service.settings import Settings, parse_tokens
from tests.acceptance.support import TOKENS, Coop
from tests.conftest import ENGINES, create_postgres_database, drop_postgres_database
from tests.servers import serving


async def _migrate_and_seed(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    services = build_services(Settings(database_url=url))
    await services.start()
    try:
        await load_seed(services.commands)
    finally:
        await services.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "seeded.db"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _migrate_and_seed(f"sqlite:///{path}")).result()
    return folder


@asynccontextmanager
async def seeded_database(engine: str, folder: Path, template: Path) -> AsyncIterator[str]:
    """A migrated database holding the seed history on `engine`; yields its URL."""
    if engine == "sqlite":
        await asyncio.to_thread(shutil.copytree, template, folder, dirs_exist_ok=True)
        yield f"sqlite:///{folder / 'seeded.db'}"
        return
    url = await create_postgres_database()
    try:
        await _migrate_and_seed(url)
        yield url
    finally:
        await drop_postgres_database(url)


@asynccontextmanager
async def running(url: str, tokens: str = TOKENS, **overrides: Any) -> AsyncIterator[Coop]:
    """Serve the database at `url` with uvicorn and the given settings."""
    settings = Settings(database_url=url, tokens=parse_tokens(tokens), **overrides)
    services = build_services(settings)
    await services.start()
    try:
        async with (
            serving(create_app(settings, services)) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=20) as http,
        ):
            yield Coop(base_url, http, services)
    finally:
        await services.close()


@pytest.fixture(params=ENGINES)
async def seeded_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A migrated database holding the seed history, on each engine under test."""
    async with seeded_database(request.param, tmp_path, sqlite_template) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def shared(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> AsyncIterator[Coop]:
    """One seeded service per module, for modules whose tests only read.

    Such modules run in the module's event loop (`pytestmark` below) and must not write."""
    folder = tmp_path_factory.mktemp("shared")
    async with (
        seeded_database(request.param, folder, sqlite_template) as url,
        running(url) as coop,
    ):
        yield coop


Start = Callable[..., AbstractAsyncContextManager[Coop]]


@pytest.fixture
def start(seeded_url: str) -> Start:
    """`async with start(**settings) as coop:` serves the seeded database with uvicorn."""

    def run(tokens: str = TOKENS, **overrides: Any) -> AbstractAsyncContextManager[Coop]:
        return running(seeded_url, tokens, **overrides)

    return run


@pytest.fixture
async def coop(start: Start) -> AsyncIterator[Coop]:
    """The service with the default settings and one token per role."""
    async with start() as service:
        yield service
