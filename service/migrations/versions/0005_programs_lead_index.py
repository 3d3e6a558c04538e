"""Programs indexed by their lead, as a partner's programs (those it leads) are read.

Without it, reading the programs of each member of a network scans every program once per
member.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_programs_lead", "programs", ["lead", "record_from", "record_to"])


def downgrade() -> None:
    op.drop_index("ix_programs_lead", table_name="programs")
