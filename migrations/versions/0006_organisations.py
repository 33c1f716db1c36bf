"""the directories behind case handling (R16-R18, R23): service providers, institutions,
departments, communities, streets and government offices, with when each was last checked

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KINDS = ("provider", "institution", "department", "community", "street", "government_office")


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.create_table(
        "organisations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("person_in_charge", sa.Text()),
        sa.Column("phone", sa.Text()),
        sa.Column("address", sa.Text()),
        sa.Column("district", sa.Text()),
        sa.Column("services", pg.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("grade", sa.Text()),
        sa.Column("floor_area_m2", sa.Integer()),
        sa.Column("member", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("checked_on", sa.Date()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint(f"kind IN ({kinds})", name="organisations_kind"),
        sa.CheckConstraint("floor_area_m2 IS NULL OR floor_area_m2 > 0", name="organisations_area"),
        sa.UniqueConstraint("kind", "name", name="organisations_kind_name"),
    )
    op.create_index("ix_organisations_kind_district", "organisations", ["kind", "district"])


def downgrade() -> None:
    op.drop_table("organisations")
