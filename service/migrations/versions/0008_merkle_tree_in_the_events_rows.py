"""The Merkle tree's kept subtrees move into the events' own rows.

Each complete subtree of 16 leaves or more is held by the event that completes it (its last
leaf), in a new column `subtrees` of the events table (events/tree.py), so that an append
writes its part of the tree in the statement that writes its events, where it took a second
statement into `merkle_nodes`. The rows of `merkle_nodes` are moved there and the table is
dropped; downgrading makes it again from the column. The events table refuses UPDATE: its
guards are dropped for the move and made again at once, in the migration's transaction.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from events.backends import BACKENDS
from events.backends.base import Backend

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LOWEST_KEPT = 4  # the level from which the tree keeps subtrees, as of this revision
HASH_SIZE = 32
PAGE = 20_000

_events = sa.table(
    "events",
    sa.column("position", sa.BigInteger),
    sa.column("subtrees", sa.LargeBinary),
)
_nodes = sa.table(
    "merkle_nodes",
    sa.column("level", sa.SmallInteger),
    sa.column("idx", sa.BigInteger),
    sa.column("hash", sa.LargeBinary),
)


def upgrade() -> None:
    backend = _backend()
    op.add_column("events", sa.Column("subtrees", sa.LargeBinary, nullable=True))
    columns = _columns()
    if columns:
        _drop_guards(backend, "events")
        update = (
            sa.update(_events)
            .where(_events.c.position == sa.bindparam("held_by"))
            .values(subtrees=sa.bindparam("column"))
        )
        op.get_bind().execute(
            update, [{"held_by": p, "column": c} for p, c in sorted(columns.items())]
        )
        _make_guards(backend, "events")
    op.drop_table("merkle_nodes")  # its triggers go with it


def _columns() -> dict[int, bytes]:
    """Each holding event's `subtrees` column, from the node table: the hashes of the
    subtrees it completes, smallest first (up to the first the table lacks, if any)."""
    held: defaultdict[int, dict[int, bytes]] = defaultdict(dict)
    # Read whole (about one row for 8 events): a cursor left open would keep PostgreSQL from
    # dropping the table in this transaction.
    rows = op.get_bind().execute(sa.select(_nodes.c.level, _nodes.c.idx, _nodes.c.hash)).all()
    for level, idx, value in rows:
        held[(idx + 1) << level][level] = bytes(value)
    columns = {}
    for position, levels in held.items():
        parts, level = [], LOWEST_KEPT
        while level in levels:
            parts.append(levels[level])
            level += 1
        if parts:
            columns[position] = b"".join(parts)
    return columns


def downgrade() -> None:
    backend = _backend()
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    held = (
        sa.select(_events.c.position, _events.c.subtrees)
        .where(_events.c.subtrees.is_not(None))
        .order_by(_events.c.position)
    )
    found = bind.execute(held).all()  # whole, as above: the column is dropped after
    for start in range(0, len(found), PAGE):
        rows = [
            {"level": level, "idx": (position >> level) - 1, "hash": value}
            for position, column in found[start : start + PAGE]
            for level, value in _split(bytes(column))
        ]
        bind.execute(sa.insert(_nodes), rows)
    _make_guards(backend, "merkle_nodes")
    op.drop_column("events", "subtrees")


def _split(column: bytes) -> list[tuple[int, bytes]]:
    return [
        (LOWEST_KEPT + n, column[start : start + HASH_SIZE])
        for n, start in enumerate(range(0, len(column), HASH_SIZE))
    ]


def _backend() -> Backend:
    return BACKENDS[op.get_bind().dialect.name]


def _drop_guards(backend: Backend, table: str) -> None:
    for trigger in backend.guards(table):
        on = f" ON {table}" if backend.name == "postgresql" else ""
        op.execute(f"DROP TRIGGER {trigger}{on}")


def _make_guards(backend: Backend, table: str) -> None:
    for statement in backend.guard_statements(table):
        op.execute(statement)
