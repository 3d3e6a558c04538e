"""On PostgreSQL, one function that takes the log's write lock and then reads the head.

An append used to spend a round trip on `pg_advisory_xact_lock` and another on reading the
head and the stream's version. They cannot share one SQL statement: under READ COMMITTED a
statement reads from a snapshot taken when it starts, so a head read in the statement that
waited for the lock would miss the append it waited for. A VOLATILE function takes a fresh
snapshot for each statement it runs, so here the read comes after the lock in one call.
SQLite needs nothing: BEGIN IMMEDIATE already holds its write lock.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_HEAD = """
CREATE FUNCTION coop_lock_log_and_read_head(lock_key bigint, wanted_stream text)
RETURNS TABLE (
    head_position bigint, head_hash varchar, head_recorded_at timestamptz, last_version integer
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT e.position, e.hash, e.recorded_at,
               (SELECT max(s.stream_version) FROM events s WHERE s.stream_id = wanted_stream)
        FROM events e
        ORDER BY e.position DESC
        LIMIT 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_HEAD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION coop_lock_log_and_read_head(bigint, text)")
