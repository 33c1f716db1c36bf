"""no single controller (issue 16): the leadership lease with its epoch (the fencing token),
the controllers seen (leader and standbys, for the floor and the metrics), and the records a
controller held when it stopped leading, handed to whichever controller leads next

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leader_lease",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="leader_lease_one_row"),
    )
    op.create_table(
        "controllers",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("epoch", sa.BigInteger),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('leader', 'standby', 'stopped')", name="controllers_role"),
    )
    op.create_table(
        "handed_over_records",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("controller", sa.Text, nullable=False),
        sa.Column("epoch", sa.BigInteger),
        sa.Column("ops", pg.JSONB, nullable=False),
        sa.Column("handed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("handed_over_records")
    op.drop_table("controllers")
    op.drop_table("leader_lease")
