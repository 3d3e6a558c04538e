"""Fixtures shared by every layer: a fresh, migrated database on each engine.

Every test that takes `database_url` (or what builds on it) runs on SQLite, and also on
PostgreSQL when COOP_TEST_POSTGRES_URL is set. Where it is set, PostgreSQL tests run; they
are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.database import create_engine
from service.migrate import upgrade
from service.services import Services, build_services
from service.settings import Settings
from tests import databases

POSTGRES_URL = os.environ.get("COOP_TEST_POSTGRES_URL")
ENGINES = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


async def create_postgres_database() -> str:
    """A new empty database beside COOP_TEST_POSTGRES_URL's; returns its URL."""
    assert POSTGRES_URL is not None
    return await databases.create_postgres_database(POSTGRES_URL)


async def drop_postgres_database(url: str) -> None:
    assert POSTGRES_URL is not None
    await databases.drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (not yet migrated) on each engine under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coop.db'}"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database on each engine under test."""
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def engine_name(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
async def services(engine: AsyncEngine, database_url: str) -> AsyncIterator[Services]:
    """The service's parts wired on a migrated database, projections caught up."""
    services = build_services(Settings(database_url=database_url))
    await services.start()
    try:
        yield services
    finally:
        await services.close()
