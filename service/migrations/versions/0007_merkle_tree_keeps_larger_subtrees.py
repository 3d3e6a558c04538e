"""The Merkle tree keeps only its complete subtrees of 16 leaves and more.

The smaller ones, 15 rows in 16 of the node table, are hashed again from the events' own
chain hashes whenever a proof or a root needs them (at most 2 * 16 of them, read in the
proof's statement: events/tree.py), so an append writes about one node row for every 8
events instead of two. The rows dropped here are those; downgrading writes them back from
the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from events.backends import BACKENDS
from events.backends.base import Backend
from events.merkle import Frontier
from events.tree import leaf_of

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LOWEST_KEPT = 4  # the level from which the node table keeps subtrees, as of this revision
PAGE = 20_000

_events = sa.table("events", sa.column("position", sa.BigInteger), sa.column("hash", sa.String))
_nodes = sa.table(
    "merkle_nodes",
    sa.column("level", sa.SmallInteger),
    sa.column("idx", sa.BigInteger),
    sa.column("hash", sa.LargeBinary),
)


def upgrade() -> None:
    backend = _backend()
    _drop_guards(backend)  # they refuse the DELETE, as they would any other
    op.execute(sa.delete(_nodes).where(_nodes.c.level < LOWEST_KEPT))
    for statement in backend.guard_statements("merkle_nodes"):
        op.execute(statement)


def downgrade() -> None:
    """Write back the subtrees below LOWEST_KEPT, from the log's hashes a page at a time."""
    bind = op.get_bind()
    frontier = Frontier()
    hashes = sa.select(_events.c.hash).order_by(_events.c.position)
    for page in bind.execute(hashes.execution_options(yield_per=PAGE)).scalars().partitions():
        made = frontier.extend(leaf_of(value) for value in page)
        lower = [{"level": n, "idx": i, "hash": h} for n, i, h in made if n < LOWEST_KEPT]
        bind.execute(sa.insert(_nodes), lower)


def _backend() -> Backend:
    return BACKENDS[op.get_bind().dialect.name]


def _drop_guards(backend: Backend) -> None:
    for trigger in backend.guards("merkle_nodes"):
        on = " ON merkle_nodes" if backend.name == "postgresql" else ""
        op.execute(f"DROP TRIGGER {trigger}{on}")
