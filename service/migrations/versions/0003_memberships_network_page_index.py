"""A network's memberships indexed in the order a page reads them, covering its filters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERING = ["network", "key", "slice", "record_to", "record_from", "valid_from_lo", "valid_to_hi"]


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_index("ix_memberships_network")
        batch.create_index("ix_memberships_network", COVERING)


def downgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_index("ix_memberships_network")
        batch.create_index("ix_memberships_network", ["network", "record_from", "record_to"])
