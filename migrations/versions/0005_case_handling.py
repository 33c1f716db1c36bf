"""case handling: whether a request is reasonable (R7) and why not, why a case was closed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("reasonable", sa.Boolean()))
    op.add_column("cases", sa.Column("unreasonable_reason", sa.Text()))
    op.add_column("cases", sa.Column("close_reason", sa.Text()))
    op.create_check_constraint(
        "cases_unreasonable_reason",
        "cases",
        "reasonable IS DISTINCT FROM false OR unreasonable_reason IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint("cases_unreasonable_reason", "cases")
    op.drop_column("cases", "close_reason")
    op.drop_column("cases", "unreasonable_reason")
    op.drop_column("cases", "reasonable")
