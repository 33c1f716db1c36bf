"""emergencies: ambulance routes per area, parties to call or notify (R10), elders flagged
high-risk, every leg of an emergency conference, its recordings, follow-up tasks (R11, R12),
alarm data received from one-key terminals (SCAIP)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "elders", sa.Column("high_risk", sa.Boolean(), server_default="false", nullable=False)
    )
    op.create_table(
        "emergency_routes",
        sa.Column("area", sa.Text(), primary_key=True),  # an elder's district, or "*"
        sa.Column("ambulance", sa.Text(), nullable=False),
        sa.Column("ambulance_alt", sa.Text()),
        sa.Column("updated_at", _TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "emergency_parties",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("area", sa.Text()),
        sa.Column("elder_id", sa.BigInteger(), sa.ForeignKey("elders.id", ondelete="CASCADE")),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "role IN ('care_centre', 'community', 'district_office', 'other')",
            name="emergency_parties_role",
        ),
        sa.CheckConstraint("mode IN ('call', 'notify')", name="emergency_parties_mode"),
        sa.CheckConstraint("(area IS NULL) <> (elder_id IS NULL)", name="emergency_parties_scope"),
    )
    op.create_index("ix_emergency_parties_area", "emergency_parties", ["area"])
    op.create_index("ix_emergency_parties_elder", "emergency_parties", ["elder_id"])
    op.create_table(
        "emergency_legs",
        sa.Column("id", pg.UUID(), primary_key=True),
        sa.Column("case_id", pg.UUID(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("call_id", pg.UUID(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("number", sa.Text()),
        sa.Column("tier", sa.SmallInteger()),
        sa.Column("attempt", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("dialled_at", _TZ),
        sa.Column("answered_at", _TZ),
        sa.Column("acknowledged_at", _TZ),
        sa.Column("left_at", _TZ),
        sa.Column("end_cause", sa.Integer()),
        sa.Column("end_reason", sa.Text()),
        sa.CheckConstraint(
            "role IN ('elder', 'operator', 'ambulance', 'family', 'supervisor', 'party')",
            name="emergency_legs_role",
        ),
    )
    op.create_index("ix_emergency_legs_case", "emergency_legs", ["case_id"])
    op.create_table(
        "case_recordings",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("case_id", pg.UUID(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("call_id", pg.UUID(), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("stopped_at", _TZ),
    )
    op.create_index("ix_case_recordings_case", "case_recordings", ["case_id"])
    op.create_table(
        "case_tasks",
        sa.Column("id", pg.UUID(), primary_key=True),
        sa.Column("case_id", pg.UUID(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_at", _TZ, nullable=False),
        sa.Column("owner_operator_id", sa.BigInteger(), sa.ForeignKey("operators.id")),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("done_at", _TZ),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name="case_tasks_status"),
    )
    op.create_index("ix_case_tasks_case", "case_tasks", ["case_id"])
    op.create_index(
        "ix_case_tasks_open_due",
        "case_tasks",
        ["due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "alarms",
        sa.Column("id", pg.UUID(), primary_key=True),
        sa.Column("received_at", _TZ, nullable=False),
        sa.Column("case_id", pg.UUID(), sa.ForeignKey("cases.id")),
        sa.Column("ref", sa.Text()),
        sa.Column("caller_number", sa.Text()),
        sa.Column("device_type", sa.Text()),
        sa.Column("device_id", sa.Text()),
        sa.Column("status_code", sa.Integer()),
        sa.Column("alarm_type", sa.Text()),
        sa.Column("priority", sa.Integer()),
        sa.Column("location_code", sa.Text()),
        sa.Column("location_text", sa.Text()),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
    )
    op.create_index("ix_alarms_case", "alarms", ["case_id"])
    op.create_index("ix_alarms_caller", "alarms", ["caller_number", "received_at"])


def downgrade() -> None:
    op.drop_table("alarms")
    op.drop_table("case_tasks")
    op.drop_table("case_recordings")
    op.drop_table("emergency_legs")
    op.drop_table("emergency_parties")
    op.drop_table("emergency_routes")
    op.drop_column("elders", "high_risk")
