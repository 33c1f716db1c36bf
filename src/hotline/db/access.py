"""The access log (R27): every read of what the hotline keeps about people, by whom.

One row a read, in the reader's transaction: an elder's full record (the screen pop, a
search's result opened, the console's record page), a case's timeline or emergency view, a
conference's recording, a search of the directory (`target`: what was looked for), the audit
log or this log itself, a supervision of an operator's call. Operators, supervisors, admins
and API tokens alike: `actor` is the operator's username or the token's name, `role` what
they acted as. Append-only (migration 0012's trigger), kept when the elder or the operator
is gone; the retention job alone deletes rows past their legal period.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import ACCESS_KINDS, RecordAccess


async def log_read(
    conn: AsyncConnection,
    *,
    actor: str,
    role: str,
    operator_id: int | None,
    kind: str,
    why: str,
    elder_id: int | None = None,
    case_id: uuid.UUID | None = None,
    call_id: uuid.UUID | None = None,
    target: str | None = None,
    reason: str | None = None,
) -> None:
    if kind not in ACCESS_KINDS:
        raise ValueError(f"no such kind of read: {kind!r}")
    await conn.execute(
        insert(RecordAccess).values(
            at=func.now(),
            actor=actor,
            role=role,
            operator_id=operator_id,
            kind=kind,
            why=why,
            elder_id=elder_id,
            case_id=case_id,
            call_id=call_id,
            target=None if target is None else target[:200],
            reason=reason,
        )
    )
