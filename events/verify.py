"""Walk the log and check its hash chain: the first position that does not match is named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from events.chain import ChainCheck
from events.store import EventStore
from events.tables import events


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_position: int | None = None
    message: str = ""
    last_hash: str | None = None  # of the last position verified (None: none was)


async def verify_chain(
    store: EventStore,
    after: int = 0,
    until: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    """Check positions after `after` up to `until` (the head when None); `progress` is told
    (events checked, events to check) after each page, and where a problem stops it."""
    check = ChainCheck()
    if after > 0:
        async with store.engine.connect() as connection:
            found = await connection.execute(
                select(events.c.hash, events.c.recorded_at).where(events.c.position == after)
            )
            before = found.first()
        if before is None:
            return ChainReport(False, 0, after, f"position {after} is missing")
        check = ChainCheck(after, before.hash, before.recorded_at)
    # The total a progress line shows (read only where one is shown: a request's range
    # check need not read the head).
    last = until if until is not None or progress is None else (await store.head()).position
    if progress is not None:  # the pass starts (its rate is counted from here)
        progress(0, max((last or 0) - after, 0))
    async for event in store.iter_all(after=after, until=until, page=_PAGE):
        problem = check.problem(event)
        if problem is not None:
            if progress is not None:  # how far the pass got
                progress(check.checked, max((last or 0) - after, check.checked))
            return ChainReport(False, check.checked, check.position + 1, problem)
        if progress is not None and check.checked % _PAGE == 0:
            progress(check.checked, max((last or 0) - after, check.checked))
    if until is not None and check.position < until:
        head = await store.head()
        if head.position >= until:
            if progress is not None:  # how far the pass got
                progress(check.checked, max(until - after, check.checked))
            missing = check.position + 1
            return ChainReport(False, check.checked, missing, f"position {missing} is missing")
    if progress is not None:
        progress(check.checked, check.checked)
    verified = f"{check.checked} event{'' if check.checked == 1 else 's'} verified"
    return ChainReport(
        True, check.checked, None, verified, check.prev_hash if check.checked else None
    )


_PAGE = 1000
