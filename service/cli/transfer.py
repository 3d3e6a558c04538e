"""`coop export`, `coop import` and `coop replay`: the log moved, and the moves printed."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from events.errors import InvalidAppend
from service.cli.common import FAILED, OK, Phases, ProgressLine, reported
from service.operations.database import Refused, check_range, opened
from service.operations.replay import check_new_file, position_of, replay_to
from service.operations.transfer import import_file, write_export
from service.redaction import masked
from service.settings import Settings


@reported
async def export(settings: Settings, args: argparse.Namespace) -> int:
    check_range(args.after, args.until)
    line = ProgressLine("export", terminal_only=True)
    async with opened(settings) as services:
        try:
            await write_export(
                services.store, sys.stdout, after=args.after, until=args.until, progress=line
            )
        except BrokenPipeError:
            # The reader stopped early (`coop export | head`); say nothing more to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return FAILED
    line.finish()
    return OK


@reported
async def import_(settings: Settings, args: argparse.Namespace) -> int:
    phases = Phases()
    try:
        with readable(args.file) as (path, label):
            async with opened(settings) as services:
                done = await import_file(
                    services,
                    path,
                    label,
                    phases.line("import"),
                    phases.line("fold"),
                    phases.line("check"),
                )
    finally:  # a refusal is said on a line of its own
        phases.finish()
    if done.count == 0:
        print(f"coop: {label} holds no events; nothing was imported")
        return OK
    first = done.head.position - done.count + 1
    print(
        f"coop: imported {done.count} events (positions {first}-{done.head.position})"
        f" from {label}; the head is position {done.head.position}, hash {done.head.hash}"
    )
    return OK


@contextmanager
def readable(name: str) -> Iterator[tuple[Path, str]]:
    """The file to import and how to name it; standard input is first copied to a temporary
    file, since an import that continues a log reads it twice (check, then write)."""
    if name != "-":
        path = Path(name)
        if path.is_dir():
            raise Refused(f"{name} is a folder, not an export file", usage=True)
        if not path.is_file():
            raise Refused(f"there is no file {name}", usage=True)
        yield path, name
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stdin.ndjson"
        with path.open("wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
        yield path, "standard input"


def point(text: str) -> int | datetime:
    """An argparse type: a log position, or an ISO date-time (UTC when it names no offset)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a log position nor an ISO date-time (2021-03-01T09:00:00+09:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@reported
async def replay(settings: Settings, args: argparse.Namespace) -> int:
    if "://" in args.into:
        raise Refused(
            f"{masked(args.into)} is a database URL; replay writes a new SQLite file: give its"
            " path",
            usage=True,
        )
    target = Path(args.into)
    check_new_file(target)
    phases = Phases()
    async with opened(settings) as services:
        until = await position_of(services.store, args.until)
        try:
            head = await replay_to(
                services.store,
                target,
                until,
                phases.line("replay"),
                phases.line("fold"),
                phases.line("chain"),
            )
        except InvalidAppend as error:
            raise Refused(f"the log cannot be replayed to position {until}: {error}") from None
        finally:
            phases.finish()
    recorded = head.recorded_at.isoformat() if head.recorded_at else "nothing recorded yet"
    print(f"coop: replayed positions 1-{head.position} into {target} (last recorded {recorded})")
    print(f"head hash {head.hash}")
    print(f"serve it with: COOP_READ_ONLY=true COOP_DATABASE_URL=sqlite:///{target} coop serve")
    return OK
