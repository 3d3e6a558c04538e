"""The log's tables, as SQLAlchemy Core metadata shared by the store and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC on every engine and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite keeps text; a naive UTC value keeps its ordering as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_id", Uuid(as_uuid=True), nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The Merkle tree over the log (events/tree.py): the hashes of the complete subtrees of
    # 16 leaves or more this event completes (the subtree at (level, idx) covers positions
    # idx * 2**level + 1 to (idx + 1) * 2**level, so it is held by the event at the last of
    # them), smallest first, 32 bytes each; NULL where it completes none (15 events in 16).
    # Written with the event; not covered by its chain hash (it is derived from the hashes).
    Column("subtrees", LargeBinary, nullable=True),
    # Unique by an index, not a constraint of the table: an import makes it after the rows.
    Index("ix_events_event_id", "event_id", unique=True),
    Index("ix_events_stream_version", "stream_id", "stream_version", unique=True),
    Index("ix_events_type_position", "type", "position"),
    Index("ix_events_recorded_at", "recorded_at"),
)

# One row per idempotent append: the key, a digest of what was asked, and what was written.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("stream_id", String(200), nullable=False),
    Column("request_digest", String(64), nullable=False),
    Column("first_position", BigInteger, nullable=False),
    Column("last_position", BigInteger, nullable=False),
)

# Signed tree heads (events/checkpoints.py), numbered in the order they were made; never
# edited.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", String(200), nullable=False),
)
