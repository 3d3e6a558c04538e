"""The hash chain: each event's hash covers the previous hash and a canonical form of the event."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from events.model import RecordedEvent

GENESIS_HASH = "0" * 64

_canonical = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys and UTF-8 text: one spelling for one value."""
    return _canonical.encode(value).decode()


def canonical_json_bytes(value: Any) -> bytes:
    """`canonical_json`'s text, UTF-8 encoded."""
    return _canonical.encode(value)


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC to the microsecond: '2021-01-01T00:00:20.000000+00:00'."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = moment.isoformat()  # in a third of the time isoformat(timespec=...) takes
    return text if moment.microsecond else f"{text[:19]}.000000{text[19:]}"


def event_hash(
    prev_hash: str,
    *,
    position: int,
    stream_id: str,
    stream_version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: str,
    metadata: str,
    recorded_at: datetime,
) -> str:
    """The hash of one event, given the canonical text of its data and metadata.

    The hashed body is the canonical JSON of the list [position, stream, version, id, type,
    schema version, data, metadata, record time]; the data and metadata texts are spliced
    in as they are, which spells the same bytes when they are canonical (as stored).
    """
    body = _canonical.encode(
        [
            position,
            stream_id,
            stream_version,
            event_id,  # as str() spells it, without making the str
            type,
            schema_version,
            msgspec.Raw(data),
            msgspec.Raw(metadata),
            timestamp_text(recorded_at),
        ]
    )
    return hashlib.sha256(b"%s\n%s" % (prev_hash.encode(), body)).hexdigest()


def canonical_texts(event: RecordedEvent) -> tuple[str, str]:
    """The canonical JSON of the event's data and metadata, as the log stores and hashes
    them."""
    return canonical_json(event.data), canonical_json(event.metadata)


def recompute_hash(event: RecordedEvent, texts: tuple[str, str] | None = None) -> str:
    """The event's hash from its values (`texts`: its `canonical_texts`, when at hand)."""
    data, metadata = texts or canonical_texts(event)
    return event_hash(
        event.prev_hash,
        position=event.position,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=data,
        metadata=metadata,
        recorded_at=event.recorded_at,
    )


class ChainCheck:
    """Checks events one at a time, in order; usable on a live log or on an import stream."""

    def __init__(
        self,
        after: int = 0,
        prev_hash: str = GENESIS_HASH,
        recorded_at: datetime | str | None = None,
    ) -> None:
        """Continuing position `after`, of hash `prev_hash`, recorded at `recorded_at` (None:
        not known, and the next event's record time is not checked against it)."""
        self.position = after
        self.prev_hash = prev_hash
        self.recorded_at = recorded_at
        self.checked = 0

    def problem(
        self,
        event: RecordedEvent,
        *,
        hash_checked: bool = False,
        texts: tuple[str, str] | None = None,
    ) -> str | None:
        """What is wrong with the next event, or None when it continues the chain.

        `hash_checked`: the event's hash was already recomputed from these very values (an
        import's check pass), so only its place in the chain is checked here. `texts`: the
        event's `canonical_texts`, when at hand."""
        problem = self.out_of_place(event.position, event.prev_hash)
        if problem is None and not hash_checked and recompute_hash(event, texts) != event.hash:
            problem = (
                f"position {event.position} was altered: its content no longer matches its hash"
            )
        if problem is None:
            problem = self.went_back(event.position, event.recorded_at)
        if problem is None:
            self.took(event.position, event.hash, recorded_at=event.recorded_at)
        return problem

    def out_of_place(self, position: int, prev_hash: str) -> str | None:
        """What is wrong with the place of the next event in the chain, or None."""
        expected = self.position + 1
        if expected < position:
            return f"position {expected} is missing: the next event found is {position}"
        if position < expected:
            return (
                f"position {position} comes again (or out of order) after position"
                f" {self.position}: position {expected} was expected next"
            )
        if prev_hash != self.prev_hash:
            return f"position {expected} does not follow the hash of position {self.position}"
        return None

    def went_back(self, position: int, recorded_at: datetime | str) -> str | None:
        """What is wrong with the record time of the next event, or None: a log's record
        time never goes back along its positions (the store keeps it so on append, and
        what was known at a time is read by it). A time is a value or the text SQLite keeps
        for it."""
        if self.recorded_at is None:
            return None
        now, before = _instant(recorded_at), _instant(self.recorded_at)
        if before <= now:
            return None
        return (
            f"position {position} was recorded at {timestamp_text(now)}, before position"
            f" {self.position} ({timestamp_text(before)}): record time never goes back along"
            " the log"
        )

    def took(
        self,
        position: int,
        chain_hash: str,
        count: int = 1,
        *,
        recorded_at: datetime | str | None = None,
    ) -> None:
        """The next event, found in its place, is the chain's head now (or the last of the
        next `count`, each found in its place by another check), recorded at
        `recorded_at` (None: not known)."""
        self.position, self.prev_hash = position, chain_hash
        self.recorded_at = recorded_at
        self.checked += count


def _instant(moment: datetime | str) -> datetime:
    """A time, from the value or from the text SQLite keeps for it ('2021-01-01
    00:00:20.000000', UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
