"""Opening the database for a verb, and the refusal a verb gives when it cannot go on."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from events.faults import causes, database_unavailable, sqlstate
from service.migrate import current_revision
from service.operations.refused import Refused as Refused
from service.redaction import masked, redacted
from service.services import Services, build_services
from service.settings import Settings


def refusal_for(error: BaseException, database_url: str) -> Refused | None:
    """What a database error means to an operator, in one line that says what to do; None
    when `error` is not about the database."""
    if not any(isinstance(c, exc.SQLAlchemyError | OSError) for c in causes(error)):
        return None
    url = make_url(database_url)
    where, state = masked(database_url), sqlstate(error)
    first = redacted(str(error).splitlines()[0] if str(error) else type(error).__name__)
    if state == "3D000":
        return Refused(
            f"the PostgreSQL database {url.database!r} does not exist at {where}: create it"
            f" (`createdb {url.database}`), then run `coop db upgrade`",
            usage=True,
        )
    if state in ("28000", "28P01"):
        return Refused(
            f"the database at {where} refused user {url.username!r}: check the user and"
            " password in COOP_DATABASE_URL",
            usage=True,
        )
    if state == "42P01" or "no such table" in first:
        return Refused(
            f"the database at {where} has no Coop schema: run `coop db upgrade`", usage=True
        )
    try:
        check_sqlite_folder(database_url)
    except Refused as refusal:
        return refusal
    if database_unavailable(error):
        return Refused(
            f"the database at {where} cannot be reached ({first}): start it, or check the host"
            " and port in COOP_DATABASE_URL, then try again",
            unavailable=True,
        )
    return Refused(f"the database at {where} failed: {first}")


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
        check_sqlite_folder(database_url)
        raise Refused(
            f"there is no database file {url.database}: run `coop db upgrade` to make one",
            usage=True,
        )


def check_sqlite_folder(database_url: str) -> None:
    """Refuse an SQLite file whose folder does not exist, naming the folder."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    folder = Path(str(url.database)).parent
    if not folder.is_dir():
        raise Refused(
            f"there is no folder {folder} for the SQLite database {url.database}: create it,"
            " or set COOP_DATABASE_URL to a file in a folder that exists",
            usage=True,
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
        where = engine.url.set(drivername=engine.dialect.name).render_as_string(hide_password=True)
        raise Refused(f"the database at {where} {state}: run `coop db upgrade`", usage=True)


def check_range(after: int, until: int | None) -> None:
    if until is not None and until < after:
        raise Refused(f"--until {until} is before --after {after}", usage=True)


def check_within(head: int, *ends: int | None) -> None:
    """Refused where a position asked for (None: none) is past the log's `head`."""
    for end in ends:
        if end is not None and end > head:
            raise Refused(f"the log ends at position {head}; it has no {end}", usage=True)
