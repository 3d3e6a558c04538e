"""How a long verb tells its caller how far it has come, and how that reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# Called with (done, total) as work advances; `total` is what the verb expects to do.
Progress = Callable[[int, int], None]


def silent(_done: int, _total: int) -> None:
    """Progress nobody watches."""


def progress_text(
    label: str, done: int, total: int, elapsed: float, bar: int = 0, unit: str = "events"
) -> str:
    """ "LABEL: DONE/TOTAL events, SHARE, ETA M:SS (or took M:SS), RATE events/s", after
    `elapsed` seconds (counting `unit` in place of events); with `bar`, a bar of that many
    characters before the share."""
    rate = done / max(elapsed, 1e-6)
    share = min(done / total, 1.0) if total else 1.0
    left = (total - done) / rate if rate > 0 and total > done else 0.0
    where = (
        f"{share:.0%}, ETA {_duration(left)}"
        if done < total
        else f"100%, took {_duration(elapsed)}"
    )
    if bar:
        filled = round(share * bar)
        where = f"[{'#' * filled}{'.' * (bar - filled)}] {where}"
    return f"{label}: {done:,}/{total:,} {unit}, {where}, {rate:,.0f} {unit}/s"


def _duration(seconds: float) -> str:
    """0:07, 12:30, 1:02:03."""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, seconds_left = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds_left:02d}"
    return f"{minutes}:{seconds_left:02d}"


class LoggedProgress:
    """Progress as log records (a service has no terminal): one every `every` seconds while
    the work goes on, and one at its end (`finish`) if any was reported."""

    def __init__(self, log: logging.Logger, label: str, every: float = 5.0) -> None:
        self.log, self.label, self.every = log, label, every
        self.started = self.shown = time.monotonic()
        self.done = self.total = 0
        self.reported = False

    def __call__(self, done: int, total: int, _rate: float = 0.0) -> None:
        self.done, self.total, self.reported = done, total, True
        now = time.monotonic()
        if now - self.shown >= self.every:
            self.shown = now
            self._record(now)

    def finish(self) -> None:
        if self.reported:
            self._record(time.monotonic())

    def _record(self, now: float) -> None:
        text = progress_text(self.label, self.done, self.total, now - self.started)
        self.log.info("%s", text)
