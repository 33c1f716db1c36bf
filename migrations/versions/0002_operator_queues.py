"""operator queues

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:53:10.219710
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "queues",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), server_default="longest_idle", nullable=False),
        sa.Column("ring_timeout_s", sa.Integer(), server_default="15", nullable=False),
        sa.Column("wrapup_s", sa.Integer(), server_default="10", nullable=False),
        sa.Column("service_level_s", sa.Integer(), server_default="10", nullable=False),
        sa.Column("overflow_after_s", sa.Integer(), nullable=True),
        sa.Column("overflow_target", sa.Text(), nullable=True),
        sa.Column("announce_every_s", sa.Integer(), server_default="30", nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "strategy IN ('longest_idle', 'ring_all', 'round_robin')", name="queues_strategy"
        ),
        sa.CheckConstraint(
            "announce_every_s IS NULL OR announce_every_s > 0", name="queues_announce"
        ),
        sa.CheckConstraint(
            "overflow_after_s IS NULL OR overflow_after_s > 0", name="queues_overflow"
        ),
        sa.CheckConstraint("ring_timeout_s > 0", name="queues_ring_timeout"),
        sa.CheckConstraint("service_level_s > 0", name="queues_service_level"),
        sa.CheckConstraint("wrapup_s >= 0", name="queues_wrapup"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.Text(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'supervisor', 'operator')", name="api_tokens_role"),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "lines",
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("queue_id", sa.BigInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("after_hours_queue_id", sa.BigInteger(), nullable=True),
        sa.Column("offer_callback", sa.Boolean(), server_default="true", nullable=False),
        sa.CheckConstraint(
            "entry IN ('hotline', 'lifehelp', 'terminal', 'web', 'visit')", name="lines_entry"
        ),
        sa.ForeignKeyConstraint(
            ["after_hours_queue_id"],
            ["queues.id"],
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
        ),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_table(
        "operator_state_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "state IN ('logged_out', 'ready', 'offered', 'on_call', 'wrap_up', 'paused')",
            name="osc_state",
        ),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_operator_state_changes_at"), "operator_state_changes", ["at"], unique=False
    )
    op.create_table(
        "queue_members",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("queue_id", sa.BigInteger(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("penalty", sa.SmallInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("penalty BETWEEN 0 AND 100", name="queue_members_penalty"),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("queue_id", "operator_id"),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waited_s", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["operators.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_callbacks_case_id"), "callbacks", ["case_id"], unique=False)
    op.add_column("calls", sa.Column("queue_id", sa.BigInteger(), nullable=True))
    op.add_column("calls", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "calls", sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.add_column("calls", sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("calls", sa.Column("operator_id", sa.BigInteger(), nullable=True))
    op.add_column("calls", sa.Column("overflowed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_calls_queued_at"), "calls", ["queued_at"], unique=False)
    op.create_foreign_key("calls_queue_id_fkey", "calls", "queues", ["queue_id"], ["id"])
    op.create_foreign_key("calls_operator_id_fkey", "calls", "operators", ["operator_id"], ["id"])
    op.add_column("operators", sa.Column("sip_md5_cred", sa.Text(), nullable=True))
    op.add_column(
        "operators", sa.Column("state", sa.Text(), server_default="logged_out", nullable=False)
    )
    op.add_column("operators", sa.Column("state_reason", sa.Text(), nullable=True))
    op.add_column(
        "operators",
        sa.Column(
            "state_since",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        "operators_state",
        "operators",
        "state IN ('logged_out', 'ready', 'offered', 'on_call', 'wrap_up', 'paused')",
    )
    # The hotline's standing set-up; admins change it through the API.
    op.execute(
        "INSERT INTO queues (name, display_name, overflow_after_s, overflow_target) VALUES "
        "('emergency', 'Emergency (one-key terminals)', 60, 'supervisors'), "
        "('life_help', 'Life help', 120, 'general'), "
        "('consultation', 'Consultation', 120, 'general'), "
        "('complaint', 'Complaints', 120, 'supervisors'), "
        "('general', 'General (24h)', 180, 'supervisors'), "
        "('supervisors', 'Duty supervisors', 120, 'fallback')"
    )
    for entry, queue, opens, closes, after_hours in (
        ("hotline", "general", None, None, None),
        ("terminal", "emergency", None, None, None),
        ("lifehelp", "life_help", "08:00", "20:00", "general"),
    ):
        op.execute(
            sa.text(
                "INSERT INTO lines (entry, queue_id, opens, closes, after_hours_queue_id) "
                "VALUES (:entry, (SELECT id FROM queues WHERE name = :queue), "
                "CAST(:opens AS time), CAST(:closes AS time), "
                "(SELECT id FROM queues WHERE name = :after_hours))"
            ).bindparams(
                entry=entry, queue=queue, opens=opens, closes=closes, after_hours=after_hours
            )
        )


def downgrade() -> None:
    op.drop_constraint("operators_state", "operators", type_="check")
    op.drop_column("operators", "state_since")
    op.drop_column("operators", "state_reason")
    op.drop_column("operators", "state")
    op.drop_column("operators", "sip_md5_cred")
    # WARNING: constraint name is None; this directive will fail as
    # rendered.  Add a name, or use a naming convention; see
    # https://alembic.sqlalchemy.org/en/latest/naming.html
    op.drop_constraint("calls_operator_id_fkey", "calls", type_="foreignkey")
    # WARNING: constraint name is None; this directive will fail as
    # rendered.  Add a name, or use a naming convention; see
    # https://alembic.sqlalchemy.org/en/latest/naming.html
    op.drop_index(op.f("ix_calls_queued_at"), table_name="calls")
    op.drop_constraint("calls_queue_id_fkey", "calls", type_="foreignkey")
    op.drop_column("calls", "overflowed_at")
    op.drop_column("calls", "operator_id")
    op.drop_column("calls", "connected_at")
    op.drop_column("calls", "priority")
    op.drop_column("calls", "queued_at")
    op.drop_column("calls", "queue_id")
    op.drop_index(op.f("ix_callbacks_case_id"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_table("queue_members")
    op.drop_index(op.f("ix_operator_state_changes_at"), table_name="operator_state_changes")
    op.drop_table("operator_state_changes")
    op.drop_table("lines")
    op.drop_table("api_tokens")
    op.drop_table("queues")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
