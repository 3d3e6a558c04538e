"""What the operator and auditor verbs share (opening the database, refusals, progress on
stderr, exit codes), and the projection verbs: status and rebuild."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.framework import Projections
from service.migrate import current_revision
from service.services import Services, build_services
from service.settings import Settings

FAILED, USAGE = 1, 2  # exit codes: a check or an input failed; the command cannot run as asked

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


class Refused(Exception):
    """A verb cannot go on: the message says why and what to do; `code` is the exit status."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


def reported(command: Command) -> Command:
    """Print a refusal (or a database that cannot be reached) as one line, return its code."""

    @functools.wraps(command)
    async def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return await command(settings, args)
        except Refused as refusal:
            print(f"coop: {refusal}", file=sys.stderr)
            return refusal.code
        except (ConnectionError, TimeoutError, DBAPIError) as error:
            where = make_url(settings.database_url).render_as_string(hide_password=True)
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"coop: the database at {where} failed: {first}", file=sys.stderr)
            return FAILED
        except OSError as error:
            print(f"coop: {error}", file=sys.stderr)
            return FAILED

    return run


def position(text: str) -> int:
    """An argparse type: a log position (0 is before the first event)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a log position (0, 1, 2, ...)")
    return int(text)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Services]:
    """The services on an existing database whose schema is up to date."""
    _check_file_exists(settings.database_url)
    services = build_services(settings)
    try:
        await require_schema(services.engine)
        yield services
    finally:
        await services.close()


def _check_file_exists(database_url: str) -> None:
    """Refuse a SQLite file that is not there, rather than create an empty one."""
    url = make_url(database_url)
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(str(url.database)).exists():
        raise Refused(
            f"there is no database file {url.database} (`coop db upgrade` makes one)", USAGE
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
        raise Refused(f"the database {state}: run `coop db upgrade` first", USAGE)


class Progress:
    """Events done and their rate on stderr: redrawn in place on a terminal; elsewhere a line
    every few seconds and one at the end, or nothing at all when `terminal_only`."""

    def __init__(self, label: str, total: int, *, terminal_only: bool = False) -> None:
        self.label, self.total = label, total
        self.stream: TextIO = sys.stderr
        self.live = self.stream.isatty()
        self.enabled = self.live or not terminal_only
        self.interval = 0.2 if self.live else 5.0
        self.started = self.shown = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.shown >= self.interval:
            self.shown = now
            self._show(done, now, "" if self.live else "\n")

    def finish(self, done: int) -> None:
        if self.enabled:
            self._show(done, time.monotonic(), "\n")

    def _show(self, done: int, now: float, end: str) -> None:
        rate = done / max(now - self.started, 1e-6)
        text = f"{self.label}: {done:,}/{self.total:,} events, {rate:,.0f} events/s"
        self.stream.write(("\r" + text + "\x1b[K" if self.live else text) + end)
        self.stream.flush()


# --- projections --------------------------------------------------------------------------


@reported
async def projections_status(settings: Settings, _args: argparse.Namespace) -> int:
    async with opened(settings) as services:
        statuses = await services.projections.status()
        head = await services.store.head()
    width = max([len("projection"), *(len(status.name) for status in statuses)])
    print(f"{'projection':<{width}}  {'checkpoint':>10}  {'lag':>8}")
    for status in statuses:
        print(f"{status.name:<{width}}  {status.position:>10}  {status.lag:>8}")
    print(f"log head: position {head.position}, hash {head.hash}")
    return 0


@reported
async def projections_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    async with opened(settings) as services:
        names = _chosen(services.projections, args.name)
        await services.projections.ensure_checkpoints()
        for name in names:
            await _rebuild(services.projections, name)
        head = (await services.store.head()).position
    print(f"coop: rebuilt {', '.join(names)} up to position {head}")
    return 0


def _chosen(projections: Projections, name: str | None) -> list[str]:
    if name is None:
        return sorted(projections.projectors)
    try:
        return [projections.get(name).name]
    except KeyError as error:
        raise Refused(str(error.args[0]), USAGE) from None


async def _rebuild(projections: Projections, name: str) -> None:
    head = (await projections.store.head()).position
    progress = Progress(f"rebuild {name}", head)
    done = await projections.rebuild(name, lambda count, _total, _rate: progress.update(count))
    progress.finish(done)


def check_range(after: int, until: int | None) -> None:
    if until is not None and until < after:
        raise Refused(f"--until {until} is before --after {after}", USAGE)
