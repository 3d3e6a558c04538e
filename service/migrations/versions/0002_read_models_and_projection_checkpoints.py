"""The read models (bitemporal row versions) and the projection checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:46:57.421081
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "activities",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=50), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("organiser", sa.String(length=100), nullable=True),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("representatives", sa.Text(), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=True),
        sa.Column("body", sa.String(length=100), nullable=True),
        sa.Column("program", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_activities_network", ["network", "record_to"], unique=False)
        batch_op.create_index("ix_activities_on", ["valid_from_lo", "record_to"], unique=False)
        batch_op.create_index("ix_activities_program", ["program", "record_to"], unique=False)
        batch_op.create_index("ix_activities_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "activity_participants",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("activity", sa.String(length=100), nullable=False),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_participants_activity",
            ["activity", "record_from", "record_to"],
            unique=False,
        )
        batch_op.create_index(
            "ix_activity_participants_key_open", ["key", "record_to"], unique=False
        )
        batch_op.create_index(
            "ix_activity_participants_partner",
            ["partner", "record_from", "record_to"],
            unique=False,
        )
        batch_op.create_index(
            "ix_activity_participants_record", ["record_from", "record_to"], unique=False
        )

    op.create_table(
        "bodies",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=False),
        sa.Column("body", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("size_as_of", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.create_index("ix_bodies_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_bodies_network", ["network", "record_to"], unique=False)
        batch_op.create_index("ix_bodies_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "commitments",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("by_title", sa.String(length=200), nullable=True),
        sa.Column("activity", sa.String(length=100), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("focus_areas", sa.Text(), nullable=False),
        sa.Column("collaborators", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index("ix_commitments_activity", ["activity", "record_to"], unique=False)
        batch_op.create_index("ix_commitments_by", ["by", "record_to"], unique=False)
        batch_op.create_index("ix_commitments_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_commitments_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index("ix_memberships_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index(
            "ix_memberships_member", ["member", "record_from", "record_to"], unique=False
        )
        batch_op.create_index(
            "ix_memberships_network", ["network", "record_from", "record_to"], unique=False
        )
        batch_op.create_index("ix_memberships_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "partners",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index("ix_partners_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_partners_kind", ["kind", "record_to"], unique=False)
        batch_op.create_index("ix_partners_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "program_partners",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("program", sa.String(length=100), nullable=False),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("program_partners", schema=None) as batch_op:
        batch_op.create_index("ix_program_partners_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index(
            "ix_program_partners_partner", ["partner", "record_from", "record_to"], unique=False
        )
        batch_op.create_index(
            "ix_program_partners_program", ["program", "record_from", "record_to"], unique=False
        )
        batch_op.create_index(
            "ix_program_partners_record", ["record_from", "record_to"], unique=False
        )

    op.create_table(
        "programs",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("lead", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index("ix_programs_field", ["field", "record_to"], unique=False)
        batch_op.create_index("ix_programs_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_programs_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "roles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=False),
        sa.Column("body", sa.String(length=100), nullable=True),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("holder_title", sa.String(length=200), nullable=True),
        sa.Column("held_as_of", sa.String(length=10), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roles_holder", ["holder", "record_from", "record_to"], unique=False
        )
        batch_op.create_index("ix_roles_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index(
            "ix_roles_network", ["network", "record_from", "record_to"], unique=False
        )
        batch_op.create_index("ix_roles_record", ["record_from", "record_to"], unique=False)

    op.create_table(
        "sources",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_from_lo", sa.Date(), nullable=False),
        sa.Column("valid_from_hi", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.Column("valid_to_lo", sa.Date(), nullable=False),
        sa.Column("valid_to_hi", sa.Date(), nullable=False),
        sa.Column("record_from", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.Integer(), nullable=False),
        sa.Column("record_to", sa.BigInteger(), nullable=True),
        sa.Column("recorded_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "record_from", "slice"),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index("ix_sources_key_open", ["key", "record_to"], unique=False)
        batch_op.create_index("ix_sources_record", ["record_from", "record_to"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index("ix_sources_record")
        batch_op.drop_index("ix_sources_key_open")

    op.drop_table("sources")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index("ix_roles_record")
        batch_op.drop_index("ix_roles_network")
        batch_op.drop_index("ix_roles_key_open")
        batch_op.drop_index("ix_roles_holder")

    op.drop_table("roles")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_record")
        batch_op.drop_index("ix_programs_key_open")
        batch_op.drop_index("ix_programs_field")

    op.drop_table("programs")
    with op.batch_alter_table("program_partners", schema=None) as batch_op:
        batch_op.drop_index("ix_program_partners_record")
        batch_op.drop_index("ix_program_partners_program")
        batch_op.drop_index("ix_program_partners_partner")
        batch_op.drop_index("ix_program_partners_key_open")

    op.drop_table("program_partners")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index("ix_partners_record")
        batch_op.drop_index("ix_partners_kind")
        batch_op.drop_index("ix_partners_key_open")

    op.drop_table("partners")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_memberships_record")
        batch_op.drop_index("ix_memberships_network")
        batch_op.drop_index("ix_memberships_member")
        batch_op.drop_index("ix_memberships_key_open")

    op.drop_table("memberships")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_record")
        batch_op.drop_index("ix_commitments_key_open")
        batch_op.drop_index("ix_commitments_by")
        batch_op.drop_index("ix_commitments_activity")

    op.drop_table("commitments")
    with op.batch_alter_table("bodies", schema=None) as batch_op:
        batch_op.drop_index("ix_bodies_record")
        batch_op.drop_index("ix_bodies_network")
        batch_op.drop_index("ix_bodies_key_open")

    op.drop_table("bodies")
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_participants_record")
        batch_op.drop_index("ix_activity_participants_partner")
        batch_op.drop_index("ix_activity_participants_key_open")
        batch_op.drop_index("ix_activity_participants_activity")

    op.drop_table("activity_participants")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_record")
        batch_op.drop_index("ix_activities_program")
        batch_op.drop_index("ix_activities_on")
        batch_op.drop_index("ix_activities_network")
        batch_op.drop_index("ix_activities_key_open")

    op.drop_table("activities")
    op.drop_table("projection_checkpoints")
