"""What every verb of the command line shares: exit codes, one-line refusals, progress on
stderr, argument types, and running a verb's coroutine."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from service.operations.database import Refused, refusal_for
from service.operations.progress import progress_text
from service.redaction import redacted
from service.settings import Settings

# Exit codes (the README lists them): success; a check or an input failed; the command cannot
# run as asked (a bad setting, a missing or unmigrated database, a missing file); something
# it needs is unavailable now (the database cannot be reached, the port is in use).
OK, FAILED, USAGE, UNAVAILABLE = 0, 1, 2, 3

Verb = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def reported(verb: Verb) -> Verb:
    """Print a refusal (or a database that cannot be used) as one line, return its code."""

    @functools.wraps(verb)
    async def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return await verb(settings, args)
        except Refused as refusal:
            return refused(refusal)
        except (SQLAlchemyError, OSError) as error:
            meaning = refusal_for(error, settings.database_url)
            if meaning is None:
                print(f"coop: {redacted(str(error))}", file=sys.stderr)
                return FAILED
            return refused(meaning)

    return run


def refused(refusal: Refused) -> int:
    """Print the refusal as one line; its exit code."""
    print(f"coop: {redacted(str(refusal))}", file=sys.stderr)
    if refusal.unavailable:
        return UNAVAILABLE
    return USAGE if refusal.usage else FAILED


def synchronous(verb: Verb) -> Callable[[Settings, argparse.Namespace], int]:
    """A verb as argparse calls it: its own event loop, its exit code."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(verb(settings, args))

    return run


def position(text: str) -> int:
    """An argparse type: a log position (0 is before the first event)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a log position (0, 1, 2, ...)")
    return int(text)


def add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--after", type=position, default=0, metavar="N", help="from N+1")
    parser.add_argument("--until", type=position, metavar="N", help="up to N (inclusive)")


class ProgressLine:
    """Work done, its rate and the time left, on stderr: a bar redrawn in place on a
    terminal; elsewhere a plain line every few seconds and one at the end, or nothing at all
    when `terminal_only`. Every form starts with "LABEL: DONE/TOTAL events, " and ends with
    the rate, "N events/s"."""

    BAR = 24

    def __init__(self, label: str, *, terminal_only: bool = False, unit: str = "events") -> None:
        self.label, self.unit = label, unit
        self.stream: TextIO = sys.stderr
        self.live = self.stream.isatty()
        self.enabled = self.live or not terminal_only
        self.interval = 0.2 if self.live else 5.0
        self.started = self.shown = time.monotonic()
        self.done = self.total = 0

    def __call__(self, done: int, total: int, _rate: float = 0.0) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        # Off a terminal the line at the end is `finish`'s: the work may go on after its
        # count is complete (a rebuild's switch, an import's indexes), and it says so once.
        ended = done >= total and not self.live
        if self.enabled and now - self.shown >= self.interval and not ended:
            self.shown = now
            self._show(now, "" if self.live else "\n")

    def finish(self) -> None:
        if self.enabled:
            self._show(time.monotonic(), "\n")

    def _show(self, now: float, end: str) -> None:
        self.stream.write(self.text(now - self.started) + end)
        self.stream.flush()

    def text(self, elapsed: float) -> str:
        """The line after `elapsed` seconds, as this stream shows it."""
        text = progress_text(
            self.label, self.done, self.total, elapsed, self.BAR if self.live else 0, self.unit
        )
        return "\r" + text + "\x1b[K" if self.live else text


class Phases:
    """Progress lines one after another (a check, a copy, the fold that follows), each shown
    from its first report on, when the one before it is finished: a bar on a terminal, a
    plain line every few seconds and one at the end otherwise."""

    def __init__(self) -> None:
        self.shown: ProgressLine | None = None

    def line(self, label: str, unit: str = "events") -> Callable[[int, int], None]:
        own: ProgressLine | None = None

        def report(done: int, total: int) -> None:
            nonlocal own
            if own is None:
                if self.shown is not None:
                    self.shown.finish()
                own = self.shown = ProgressLine(label, unit=unit)
            own(done, total)

        return report

    def finish(self) -> None:
        if self.shown is not None:
            self.shown.finish()
            self.shown = None
