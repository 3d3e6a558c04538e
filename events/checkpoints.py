"""Checkpoints: signed statements of the log's tree size, Merkle root and head hash.

A checkpoint is made under the log's write lock from the tree's stored subtrees (the log is
not reread), signed by whatever `Signer` the caller gives (the service holds the key), and
kept in a table the database refuses to edit.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.chain import GENESIS_HASH
from events.database import write_transaction
from events.tables import checkpoints, events
from events.tree import root_at

CONTEXT = "coop-checkpoint/v1"


class Signer(Protocol):
    """What signs a checkpoint: the id of its key and an Ed25519 signature."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def checkpoint_message(tree_size: int, root_hash: str, head_hash: str, timestamp: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return f"{CONTEXT}\n{tree_size}\n{root_hash}\n{head_hash}\n{timestamp}\n".encode()


def rfc3339(moment: datetime) -> str:
    """A moment as RFC 3339 text in UTC, to the second: 2026-11-30T13:45:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Checkpoint:
    """One signed tree head; `as_json` gives its fields in the order they are published."""

    tree_size: int
    root_hash: str
    head_hash: str
    timestamp: str
    key_id: str
    signature: str

    @property
    def message(self) -> bytes:
        return checkpoint_message(self.tree_size, self.root_hash, self.head_hash, self.timestamp)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = [checkpoints.c[name] for name in Checkpoint.__dataclass_fields__]


def _from_row(row: Any) -> Checkpoint:
    return Checkpoint(**{name: row._mapping[name] for name in Checkpoint.__dataclass_fields__})


async def record_checkpoint(
    engine: AsyncEngine, signer: Signer, now: Callable[[], datetime]
) -> Checkpoint:
    """Sign the log as it stands and keep the checkpoint."""
    async with write_transaction(engine) as connection:
        head = (
            await connection.execute(
                select(events.c.position, events.c.hash).order_by(events.c.position.desc()).limit(1)
            )
        ).first()
        size, head_hash = (head.position, head.hash) if head else (0, GENESIS_HASH)
        root = (await root_at(connection, size)).hex()
        timestamp = rfc3339(now())
        signature = signer.sign(checkpoint_message(size, root, head_hash, timestamp))
        made = Checkpoint(
            size, root, head_hash, timestamp, signer.key_id, base64.b64encode(signature).decode()
        )
        last = await connection.scalar(select(func.max(checkpoints.c.number)))
        await connection.execute(
            insert(checkpoints).values(number=(last or 0) + 1, **made.as_json())
        )
    return made


async def latest_checkpoint(connection: AsyncConnection) -> Checkpoint | None:
    query = select(*_FIELDS).order_by(checkpoints.c.number.desc()).limit(1)
    row = (await connection.execute(query)).first()
    return None if row is None else _from_row(row)


async def stored_checkpoints(
    connection: AsyncConnection, *, after: int = 0, limit: int | None = None
) -> list[tuple[int, Checkpoint]]:
    """Stored checkpoints with their numbers, oldest first, after number `after`."""
    query = select(checkpoints.c.number, *_FIELDS).where(checkpoints.c.number > after)
    query = query.order_by(checkpoints.c.number)
    if limit is not None:
        query = query.limit(limit)
    return [(row.number, _from_row(row)) for row in await connection.execute(query)]


async def count_checkpoints(connection: AsyncConnection) -> int:
    return (await connection.scalar(select(func.count()).select_from(checkpoints))) or 0
