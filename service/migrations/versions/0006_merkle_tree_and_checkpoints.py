"""The Merkle tree over the log (its complete subtrees) and signed checkpoints, both guarded
like the log; the tree of a log that already holds events is built here from their hashes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from events.backends import BACKENDS
from events.merkle import Frontier
from events.tree import leaf_of

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GUARDED = ("merkle_nodes", "checkpoints")
PAGE = 20_000

_events = sa.table("events", sa.column("position", sa.BigInteger), sa.column("hash", sa.String))


def upgrade() -> None:
    nodes = op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "checkpoints",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    assert nodes is not None
    _build_tree(nodes)
    backend = BACKENDS[op.get_bind().dialect.name]
    for table in GUARDED:
        for statement in backend.guard_statements(table):
            op.execute(statement)


def _build_tree(nodes: sa.Table) -> None:
    """The complete subtrees of the events already in the log, page by page."""
    bind = op.get_bind()
    frontier, after = Frontier(), 0
    while True:
        query = (
            sa.select(_events.c.position, _events.c.hash)
            .where(_events.c.position > after)
            .order_by(_events.c.position)
            .limit(PAGE)
        )
        rows = bind.execute(query).all()
        if not rows:
            return
        made = frontier.extend(leaf_of(h) for _, h in rows)
        bind.execute(sa.insert(nodes), [{"level": n, "idx": i, "hash": h} for n, i, h in made])
        after = rows[-1][0]


def downgrade() -> None:
    backend = BACKENDS[op.get_bind().dialect.name]
    for table in GUARDED:
        for trigger in backend.guards(table):
            op.execute(
                f"DROP TRIGGER {trigger} ON {table}"
                if backend.name == "postgresql"
                else f"DROP TRIGGER {trigger}"
            )
    op.drop_table("checkpoints")
    op.drop_table("merkle_nodes")
