"""the reports: an index on when each case task is due (deadlines met and missed by day,
month or quarter read the tasks due in the period; without it every report read every task)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_tasks_due", "case_tasks", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_case_tasks_due", "case_tasks")
