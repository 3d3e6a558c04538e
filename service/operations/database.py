"""Opening the database for a verb, and the refusal a verb gives when it cannot go on."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from service.migrate import current_revision
from service.services import Services, build_services
from service.settings import Settings


class Refused(Exception):
    """A verb cannot go on: the message says why and what to do. `usage` marks a verb that
    cannot run as asked (a missing file, a range backwards), not a check that failed."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Services]:
    """The services on an existing database whose schema is up to date."""
    check_file_exists(settings.database_url)
    services = build_services(settings)
    try:
        await require_schema(services.engine)
        yield services
    finally:
        await services.close()


def check_file_exists(database_url: str) -> None:
    """Refuse a SQLite file that is not there, rather than create an empty one."""
    url = make_url(database_url)
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(str(url.database)).exists():
        raise Refused(
            f"there is no database file {url.database} (`coop db upgrade` makes one)", usage=True
        )


@functools.cache
def latest_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", "service:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


async def require_schema(engine: AsyncEngine) -> None:
    latest = latest_revision()
    found = await current_revision(engine)
    if found != latest:
        state = "has no Coop schema" if found is None else f"is at schema {found}, not {latest}"
        raise Refused(f"the database {state}: run `coop db upgrade` first", usage=True)


def check_range(after: int, until: int | None) -> None:
    if until is not None and until < after:
        raise Refused(f"--until {until} is before --after {after}", usage=True)
