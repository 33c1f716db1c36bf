"""hardening against hostile and careless users (issue 15, R27): console sessions that go
idle and say why they ended; API tokens that expire; an access log of every read (records,
timelines, emergency views, recordings, searches, the logs themselves, supervisions) naming
who, append-only like the audit log and outliving the elder's record; a legal hold on cases
(their recordings are not purged); recordings purged after their legal period

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RETENTION_ROLE = "hotline_retention"  # the only role that may delete old log rows
KINDS = (
    "'record', 'timeline', 'emergency', 'recording', 'search', 'audit', 'access_log', 'supervision'"
)


def upgrade() -> None:
    op.add_column(
        "console_sessions",
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.add_column("console_sessions", sa.Column("ended_reason", sa.Text()))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    # tokens made before expiry existed: 90 days from now, as a new one gets by default
    op.execute(
        "UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE revoked_at IS NULL"
    )
    op.add_column(
        "cases", sa.Column("hold", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # the retention job removed the recording's file after its legal period (the row stays)
    op.add_column("case_recordings", sa.Column("purged_at", sa.DateTime(timezone=True)))

    # The access log: every read, by whom (operators, supervisors, admins, API tokens).
    op.add_column(
        "record_access", sa.Column("kind", sa.Text(), server_default="record", nullable=False)
    )
    op.add_column("record_access", sa.Column("role", sa.Text()))
    op.add_column("record_access", sa.Column("case_id", pg.UUID()))
    op.add_column("record_access", sa.Column("target", sa.Text()))
    op.create_check_constraint("record_access_kind", "record_access", f"kind IN ({KINDS})")
    op.alter_column("record_access", "elder_id", nullable=True)
    # It outlives the elder's record and the operator's: no foreign key deletes or nulls it.
    op.drop_constraint("record_access_elder_id_fkey", "record_access", type_="foreignkey")
    op.drop_constraint("record_access_operator_id_fkey", "record_access", type_="foreignkey")
    op.create_index("ix_record_access_case", "record_access", ["case_id", "at"])
    op.create_index("ix_record_access_kind_at", "record_access", ["kind", "at"])

    # Append-only: nobody updates a row; only the retention role deletes (old rows).
    op.execute(
        "CREATE FUNCTION hotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP = 'DELETE' AND current_user = '{RETENTION_ROLE}' THEN RETURN OLD; "
        "END IF; RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in ("record_access", "audit_log"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION hotline_append_only()"
        )
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{RETENTION_ROLE}') THEN "
        f"GRANT USAGE ON SCHEMA public TO {RETENTION_ROLE}; "
        f"GRANT SELECT, DELETE ON record_access, console_sessions TO {RETENTION_ROLE}; "
        f"GRANT SELECT ON case_recordings, cases TO {RETENTION_ROLE}; "
        f"GRANT SELECT, INSERT ON audit_log TO {RETENTION_ROLE}; "
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {RETENTION_ROLE}; "
        "END IF; END $$"
    )


def downgrade() -> None:
    for table in ("record_access", "audit_log"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION hotline_append_only()")
    op.drop_index("ix_record_access_kind_at", "record_access")
    op.drop_index("ix_record_access_case", "record_access")
    op.execute("DELETE FROM record_access WHERE elder_id IS NULL OR kind <> 'record'")
    op.execute(
        "DELETE FROM record_access WHERE elder_id NOT IN (SELECT id FROM elders)"
        " OR operator_id NOT IN (SELECT id FROM operators)"
    )
    op.create_foreign_key(
        "record_access_operator_id_fkey",
        "record_access",
        "operators",
        ["operator_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        "record_access_elder_id_fkey",
        "record_access",
        "elders",
        ["elder_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.alter_column("record_access", "elder_id", nullable=False)
    op.drop_constraint("record_access_kind", "record_access")
    for column in ("target", "case_id", "role", "kind"):
        op.drop_column("record_access", column)
    op.drop_column("case_recordings", "purged_at")
    op.drop_column("cases", "hold")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("console_sessions", "ended_reason")
    op.drop_column("console_sessions", "last_seen_at")
