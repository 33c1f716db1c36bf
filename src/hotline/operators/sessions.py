"""An operator's console logins, as far as a change to the operator ends them: a new
password, another role, a deactivation (R27). The console's own module (console.sessions)
opens, finds and closes them; this one only ends them all, inside the change's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import ConsoleSession


async def end_all(
    conn: AsyncConnection, operator_id: int, *, now: dt.datetime, reason: str
) -> list[str]:
    """End every live console login of the operator; their keys."""
    rows = await conn.execute(
        update(ConsoleSession)
        .where(ConsoleSession.operator_id == operator_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .returning(ConsoleSession.token_sha256)
    )
    return list(rows.scalars())
