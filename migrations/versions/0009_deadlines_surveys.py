"""deadlines kept and followed up: local exceptions to the working-day calendar, when a
deadline was warned about and escalated (each once, across restarts), the satisfaction
survey's answers (R21), and the indexes the reports read

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_exceptions",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),  # holiday | workday
        sa.Column("note", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name="calendar_exceptions_kind"),
    )
    op.add_column("case_tasks", sa.Column("warned_at", sa.DateTime(timezone=True)))
    op.add_column("case_tasks", sa.Column("escalated_at", sa.DateTime(timezone=True)))
    op.create_table(
        "survey_answers",
        sa.Column("id", pg.UUID(), primary_key=True),
        sa.Column("case_id", pg.UUID(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("call_id", pg.UUID()),
        sa.Column("org_id", sa.BigInteger(), sa.ForeignKey("organisations.id"), index=True),
        sa.Column("operator_id", sa.BigInteger(), sa.ForeignKey("operators.id")),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False, index=True),
        # answered (a score), timeout (no key after the repeat), invalid (wrong keys twice)
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("score", sa.SmallInteger()),  # 1 (very dissatisfied) .. 5 (very satisfied)
        sa.CheckConstraint(
            "outcome IN ('answered', 'timeout', 'invalid', 'hung_up')", name="survey_outcome"
        ),
        sa.CheckConstraint(
            "(outcome = 'answered') = (score IS NOT NULL) "
            "AND (score IS NULL OR score BETWEEN 1 AND 5)",
            name="survey_score",
        ),
    )
    op.create_index("ix_cases_opened", "cases", ["opened_at"])
    op.create_index("ix_cases_closed", "cases", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_closed", "cases")
    op.drop_index("ix_cases_opened", "cases")
    op.drop_table("survey_answers")
    op.drop_column("case_tasks", "escalated_at")
    op.drop_column("case_tasks", "warned_at")
    op.drop_table("calendar_exceptions")
