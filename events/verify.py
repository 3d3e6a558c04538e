"""Walk the log and check its hash chain: the first position that does not match is named."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from events.chain import GENESIS_HASH, canonical_json, event_hash
from events.model import RecordedEvent
from events.store import EventStore
from events.tables import events


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_position: int | None = None
    message: str = ""


def recompute_hash(event: RecordedEvent) -> str:
    return event_hash(
        event.prev_hash,
        position=event.position,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=canonical_json(event.data),
        metadata=canonical_json(event.metadata),
        recorded_at=event.recorded_at,
    )


class ChainCheck:
    """Checks events one at a time, in order; usable on a live log or on an import stream."""

    def __init__(self, after: int = 0, prev_hash: str = GENESIS_HASH) -> None:
        self.position = after
        self.prev_hash = prev_hash
        self.checked = 0

    def problem(self, event: RecordedEvent) -> str | None:
        """What is wrong with the next event, or None when it continues the chain."""
        expected = self.position + 1
        if event.position != expected:
            return f"position {expected} is missing: the next event found is {event.position}"
        if event.prev_hash != self.prev_hash:
            return f"position {expected} does not follow the hash of position {self.position}"
        if recompute_hash(event) != event.hash:
            return f"position {expected} was altered: its content no longer matches its hash"
        self.position, self.prev_hash = event.position, event.hash
        self.checked += 1
        return None


async def verify_chain(store: EventStore, after: int = 0, until: int | None = None) -> ChainReport:
    """Check positions after `after` up to `until` (the head when None)."""
    prev_hash = GENESIS_HASH
    if after > 0:
        async with store.engine.connect() as connection:
            found = await connection.scalar(select(events.c.hash).where(events.c.position == after))
        if found is None:
            return ChainReport(False, 0, after, f"position {after} is missing")
        prev_hash = found
    check = ChainCheck(after, prev_hash)
    async for event in store.iter_all(after=after, until=until):
        problem = check.problem(event)
        if problem is not None:
            return ChainReport(False, check.checked, check.position + 1, problem)
    if until is not None and check.position < until:
        head = await store.head()
        if head.position >= until:
            missing = check.position + 1
            return ChainReport(False, check.checked, missing, f"position {missing} is missing")
    return ChainReport(True, check.checked, None, f"{check.checked} events verified")
