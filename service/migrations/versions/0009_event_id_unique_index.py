"""An event's id is unique by an index of its own, not by a constraint made with the table.

An import into an empty log makes the events table's indexes after its rows, from them at
once, which is faster than growing each row by row; event_id's uniqueness was a constraint
made with the table, which SQLite can drop only with the table, so on SQLite its index grew
with every row on random keys (11.4 s against 4.1 s for 1,000,000 rows, bench/README.md).
As the unique index `ix_events_event_id` it is dropped and made again like the others.
The same rows are refused as before.

PostgreSQL drops the constraint and makes the index. SQLite makes the table again without
it: its rows copied as they are (position, hashes and all), its indexes and the triggers
that refuse edits made again, in the migration's transaction.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from events.backends import BACKENDS

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "ix_events_event_id"
COLUMNS = (
    "position, stream_id, stream_version, event_id, type, schema_version, data, metadata,"
    " recorded_at, prev_hash, hash, subtrees"
)
# The events table's other indexes, as migration 0001 made them.
OTHER_INDEXES = (
    ("ix_events_stream_version", ["stream_id", "stream_version"], True),
    ("ix_events_type_position", ["type", "position"], False),
    ("ix_events_recorded_at", ["recorded_at"], False),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("events_event_id_key", "events", type_="unique")
    else:
        _make_table_again(unique_column=False)
    op.create_index(INDEX, "events", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="events")
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("events_event_id_key", "events", ["event_id"])
    else:
        _make_table_again(unique_column=True)


def _make_table_again(*, unique_column: bool) -> None:
    """SQLite: the events table made again with the same columns (event_id unique by a
    constraint of its own or not), its rows copied, its indexes and guards made again."""
    backend = BACKENDS["sqlite"]
    for trigger in backend.guards("events"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.create_table(
        "events_again",
        # As migrations 0001 and 0008 made them.
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=unique_column),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("subtrees", sa.LargeBinary, nullable=True),
    )
    op.execute(
        f"INSERT INTO events_again ({COLUMNS}) SELECT {COLUMNS} FROM events ORDER BY position"
    )
    op.drop_table("events")  # its indexes go with it
    op.rename_table("events_again", "events")
    for name, columns, unique in OTHER_INDEXES:
        op.create_index(name, "events", columns, unique=unique)
    for statement in backend.guard_statements("events"):
        op.execute(statement)
