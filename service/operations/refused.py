"""What a verb says when it cannot go on (nothing here reaches a database or a service,
so a check in a process of its own can say it too)."""

from __future__ import annotations


class Refused(Exception):
    """A verb cannot go on: the message says why and what to do. `usage` marks a verb that
    cannot run as asked (a missing file, a range backwards), not a check that failed;
    `unavailable` one that may succeed later (the database cannot be reached now)."""

    def __init__(self, message: str, *, usage: bool = False, unavailable: bool = False) -> None:
        super().__init__(message)
        self.usage = usage
        self.unavailable = unavailable
