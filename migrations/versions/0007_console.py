"""the operators' console: console logins (a role and a password per operator, sessions),
who looked at which elder's record and why (R27), and case tasks that name an organisation
(a service order's provider, a complaint's department) with what the action said

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "operators", sa.Column("role", sa.Text(), server_default="operator", nullable=False)
    )
    op.create_check_constraint("operators_role", "operators", "role IN ('operator', 'supervisor')")
    # scrypt: "scrypt$n$r$p$salt_hex$hash_hex"; no password, no console login
    op.add_column("operators", sa.Column("password_hash", sa.Text()))
    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.Text(), primary_key=True),
        sa.Column(
            "operator_id",
            sa.BigInteger(),
            sa.ForeignKey("operators.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("csrf", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "record_access",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "operator_id", sa.BigInteger(), sa.ForeignKey("operators.id", ondelete="SET NULL")
        ),
        sa.Column(
            "elder_id",
            sa.BigInteger(),
            sa.ForeignKey("elders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        # offered (a call offered to the operator), owner (a case they own), search (asked
        # for, with a reason), supervisor, admin
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("call_id", pg.UUID()),
        sa.CheckConstraint(
            "why IN ('offered', 'owner', 'search', 'supervisor', 'admin')",
            name="record_access_why",
        ),
    )
    op.create_index(
        "ix_record_access_operator_elder", "record_access", ["operator_id", "elder_id", "at"]
    )
    op.create_index("ix_record_access_elder", "record_access", ["elder_id", "at"])
    op.add_column(
        "case_tasks",
        sa.Column("org_id", sa.BigInteger(), sa.ForeignKey("organisations.id")),
    )
    op.add_column(
        "case_tasks",
        sa.Column("detail", pg.JSONB(), server_default="{}", nullable=False),
    )
    op.add_column(
        "case_tasks", sa.Column("extensions", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_case_tasks_owner_open",
        "case_tasks",
        ["owner_operator_id", "due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_cases_elder_open",
        "cases",
        ["elder_id", "opened_at"],
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index("ix_calls_elder_started", "calls", ["elder_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_elder_started", "calls")
    op.drop_index("ix_cases_elder_open", "cases")
    op.drop_index("ix_case_tasks_owner_open", "case_tasks")
    op.drop_column("case_tasks", "extensions")
    op.drop_column("case_tasks", "detail")
    op.drop_column("case_tasks", "org_id")
    op.drop_index("ix_record_access_elder", "record_access")
    op.drop_index("ix_record_access_operator_elder", "record_access")
    op.drop_table("record_access")
    op.drop_table("console_sessions")
    op.drop_column("operators", "password_hash")
    op.drop_constraint("operators_role", "operators")
    op.drop_column("operators", "role")
