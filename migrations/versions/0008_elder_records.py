"""elder records: finding an elder by name among a million (a trigram index for a part of
the name, a case-folded prefix index for its start), and the indexes that read one elder's
contacts and terminals without scanning every row

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # pg_trgm ships with PostgreSQL (Debian's postgresql-15) and is a trusted extension:
    # the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_elders_name_trgm ON elders USING gin (full_name gin_trgm_ops)")
    # The start of a name, case-folded, in byte order: LIKE 'wang%' and ORDER BY ... LIMIT.
    op.execute('CREATE INDEX ix_elders_name_prefix ON elders ((lower(full_name)) COLLATE "C")')
    op.create_index("ix_contacts_elder_tier", "contacts", ["elder_id", "tier"])
    op.create_index("ix_terminals_elder", "terminals", ["elder_id"])


def downgrade() -> None:
    op.drop_index("ix_terminals_elder", "terminals")
    op.drop_index("ix_contacts_elder_tier", "contacts")
    op.drop_index("ix_elders_name_prefix", "elders")
    op.drop_index("ix_elders_name_trgm", "elders")
    # the extension stays: other databases' objects or later revisions may use it
