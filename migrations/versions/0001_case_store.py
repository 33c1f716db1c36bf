"""case store: elders, contacts, terminals, operators, calls, cases, timeline

Revision ID: 0001
Revises:
Create Date: 2026-11-23 03:19:30.382315
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "elders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("district", sa.Text(), nullable=True),
        sa.Column("health_conditions", sa.Text(), nullable=True),
        sa.Column("medical_history", sa.Text(), nullable=True),
        sa.Column("medication", sa.Text(), nullable=True),
        sa.Column("living_situation", sa.Text(), nullable=True),
        sa.Column("children", sa.Text(), nullable=True),
        sa.Column("life_events", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("sip_endpoint", sa.Text(), nullable=True),
        sa.Column("line_cap", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("line_cap BETWEEN 1 AND 2", name="operators_line_cap"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sip_endpoint"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("number", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("class", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("elder_id", sa.BigInteger(), nullable=True),
        sa.Column("identified", sa.Boolean(), nullable=False),
        sa.Column("owner_operator_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('hotline', 'lifehelp', 'terminal', 'web', 'visit')", name="cases_channel"
        ),
        sa.CheckConstraint(
            "class IN ('emergency', 'consultation_service', 'consultation_affairs', 'consultation_legal', 'consultation_other', 'life_help', 'referral', 'complaint')",
            name="cases_class",
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'callback_due', 'follow_up', 'closed')",
            name="cases_status",
        ),
        sa.ForeignKeyConstraint(
            ["elder_id"],
            ["elders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_operator_id"],
            ["operators.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index(op.f("ix_cases_elder_id"), "cases", ["elder_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("elder_id", sa.BigInteger(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("is_guardian", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint("tier BETWEEN 1 AND 9", name="contacts_tier"),
        sa.ForeignKeyConstraint(["elder_id"], ["elders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_contacts_number"), "contacts", ["number"], unique=False)
    op.create_table(
        "elder_phones",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("elder_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["elder_id"], ["elders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("elder_id", "number"),
    )
    op.create_index(op.f("ix_elder_phones_number"), "elder_phones", ["number"], unique=False)
    op.create_table(
        "terminals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("elder_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.ForeignKeyConstraint(["elder_id"], ["elders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("linkedid", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("caller_number", sa.Text(), nullable=True),
        sa.Column("caller_kind", sa.Text(), nullable=True),
        sa.Column("elder_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_cause", sa.Integer(), nullable=True),
        sa.Column("end_cause_txt", sa.Text(), nullable=True),
        sa.Column("ended_by", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "caller_kind IN ('elder', 'contact', 'terminal', 'unknown', 'anonymous', 'unverified')",
            name="calls_caller_kind",
        ),
        sa.CheckConstraint(
            "entry IN ('hotline', 'lifehelp', 'terminal', 'web', 'visit')", name="calls_entry"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["elder_id"],
            ["elders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("linkedid"),
    )
    op.create_index(op.f("ix_calls_case_id"), "calls", ["case_id"], unique=False)
    op.create_index(op.f("ix_calls_elder_id"), "calls", ["elder_id"], unique=False)
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"], unique=False)
    op.create_table(
        "case_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"], unique=False)
    # The timeline is evidence (R11, R13, R27): steps are added, never changed or removed.
    op.execute(
        "CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'case_events is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER case_events_append_only ON case_events")
    op.execute("DROP FUNCTION case_events_append_only()")
    op.drop_index(op.f("ix_case_events_case_id"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_index(op.f("ix_calls_started_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_elder_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_case_id"), table_name="calls")
    op.drop_table("calls")
    op.drop_table("terminals")
    op.drop_index(op.f("ix_elder_phones_number"), table_name="elder_phones")
    op.drop_table("elder_phones")
    op.drop_index(op.f("ix_contacts_number"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_cases_elder_id"), table_name="cases")
    op.drop_table("cases")
    op.drop_table("operators")
    op.drop_table("elders")
