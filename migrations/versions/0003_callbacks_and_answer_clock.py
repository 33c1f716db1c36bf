"""callbacks dialled (status, due time, attempts), the answer clock, queue callback settings,
operators' availability apart from the state the floor shows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("sla_breached_at", sa.DateTime(timezone=True)))
    op.add_column(
        "queues",
        sa.Column("callback_attempts", sa.SmallInteger(), server_default="3", nullable=False),
    )
    op.add_column(
        "queues",
        sa.Column("callback_spacing_s", sa.Integer(), server_default="900", nullable=False),
    )
    op.create_check_constraint(
        "queues_callback_attempts", "queues", "callback_attempts BETWEEN 1 AND 10"
    )
    op.create_check_constraint("queues_callback_spacing", "queues", "callback_spacing_s > 0")
    op.add_column(
        "queues",
        sa.Column("callback_on_abandon", sa.Boolean(), server_default="true", nullable=False),
    )
    # What an operator (or a supervisor for them) set, apart from what the floor shows in
    # `state` (on a call, wrapping up): a reload of the floor reads this, never the live state.
    op.add_column(
        "operators",
        sa.Column("availability", sa.Text(), server_default="logged_out", nullable=False),
    )
    op.execute(
        "UPDATE operators SET availability = CASE WHEN state IN ('paused', 'logged_out')"
        " THEN state ELSE 'ready' END"
    )
    op.create_check_constraint(
        "operators_availability", "operators", "availability IN ('logged_out', 'ready', 'paused')"
    )

    op.add_column(
        "callbacks", sa.Column("status", sa.Text(), server_default="pending", nullable=False)
    )
    op.add_column("callbacks", sa.Column("due_at", sa.DateTime(timezone=True)))
    op.add_column("callbacks", sa.Column("queue_id", sa.BigInteger()))
    op.add_column(
        "callbacks", sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "callbacks",
        sa.Column("max_attempts", sa.SmallInteger(), server_default="3", nullable=False),
    )
    op.add_column(
        "callbacks", sa.Column("spacing_s", sa.Integer(), server_default="900", nullable=False)
    )
    op.add_column("callbacks", sa.Column("last_outcome", sa.Text()))
    op.add_column("callbacks", sa.Column("requested_by", sa.Text()))
    # Callbacks from before: due when they were asked for, in the queue their call waited in
    # (else the general queue); the ones already done count as talked.
    op.execute(
        """
        UPDATE callbacks cb SET
            due_at = cb.created_at,
            status = CASE WHEN cb.done_at IS NULL THEN 'pending' ELSE 'talked' END,
            queue_id = COALESCE(
                (SELECT c.queue_id FROM calls c WHERE c.id = cb.call_id),
                (SELECT q.id FROM queues q WHERE q.name = 'general')
            )
        """
    )
    op.alter_column("callbacks", "due_at", nullable=False)
    op.create_foreign_key("callbacks_queue_id_fkey", "callbacks", "queues", ["queue_id"], ["id"])
    op.create_check_constraint(
        "callbacks_status", "callbacks", "status IN ('pending', 'talked', 'given_up', 'cancelled')"
    )
    op.create_index(
        "ix_callbacks_pending_due",
        "callbacks",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("callback_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("cause", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('answered', 'no_answer', 'busy', 'failed', 'operator_left')",
            name="callback_attempts_outcome",
        ),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("callback_id", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_pending_due", table_name="callbacks")
    op.drop_constraint("callbacks_status", "callbacks", type_="check")
    op.drop_constraint("callbacks_queue_id_fkey", "callbacks", type_="foreignkey")
    for column in (
        "requested_by",
        "last_outcome",
        "spacing_s",
        "max_attempts",
        "attempts",
        "queue_id",
        "due_at",
        "status",
    ):
        op.drop_column("callbacks", column)
    op.drop_constraint("operators_availability", "operators", type_="check")
    op.drop_column("operators", "availability")
    op.drop_column("queues", "callback_on_abandon")
    op.drop_constraint("queues_callback_spacing", "queues", type_="check")
    op.drop_constraint("queues_callback_attempts", "queues", type_="check")
    op.drop_column("queues", "callback_spacing_s")
    op.drop_column("queues", "callback_attempts")
    op.drop_column("calls", "sla_breached_at")
