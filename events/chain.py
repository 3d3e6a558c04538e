"""The hash chain: each event's hash covers the previous hash and a canonical form of the event."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

GENESIS_HASH = "0" * 64

_canonical = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys and UTF-8 text: one spelling for one value."""
    return _canonical.encode(value).decode()


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    """The hash of one event, given the stored text of its data and metadata."""
    body = canonical_json(
        [
            position,
            stream_id,
            stream_version,
            str(event_id),
            type,
            schema_version,
            msgspec.json.decode(data),
            msgspec.json.decode(metadata),
            timestamp_text(recorded_at),
        ]
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()
