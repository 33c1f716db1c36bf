"""official calendars: a year's holiday notice published by an admin (when the holidays
package does not carry the year yet), its days, how it compares with the library's data for
the same year; and the console's admin role

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "official_years",
        sa.Column("country", sa.Text(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("notice", sa.Text(), nullable=False),  # which notice: its title or number
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        # the days the library's data for the same year disagrees on (checked at start-up)
        sa.Column("library_version", sa.Text()),
        sa.Column("library_checked_at", sa.DateTime(timezone=True)),
        sa.Column("library_differences", JSONB()),
        sa.CheckConstraint("year BETWEEN 1990 AND 2200", name="official_years_year"),
        sa.CheckConstraint("country IN ('CN', 'RU')", name="official_years_country"),
    )
    op.create_table(
        "official_days",
        sa.Column("country", sa.Text(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text()),
        sa.ForeignKeyConstraint(
            ["country", "year"],
            ["official_years.country", "official_years.year"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name="official_days_kind"),
    )
    op.drop_constraint("operators_role", "operators")
    op.create_check_constraint(
        "operators_role", "operators", "role IN ('operator', 'supervisor', 'admin')"
    )


def downgrade() -> None:
    op.execute("UPDATE operators SET role = 'supervisor' WHERE role = 'admin'")
    op.drop_constraint("operators_role", "operators")
    op.create_check_constraint("operators_role", "operators", "role IN ('operator', 'supervisor')")
    op.drop_table("official_days")
    op.drop_table("official_years")
