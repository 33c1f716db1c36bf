"""Reads that are logged (R27, db.access), as the HTTP handlers and the console's pages make
them: the reader is the request's principal (an operator, a supervisor, an admin, a token)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.api.auth import Principal
from hotline.db.access import log_read


async def logged(
    conn: AsyncConnection,
    who: Principal,
    kind: str,
    *,
    why: str | None = None,
    elder_id: int | None = None,
    case_id: uuid.UUID | None = None,
    call_id: uuid.UUID | None = None,
    target: str | None = None,
) -> None:
    """One row of the access log for `who`'s read; `why` defaults to what they act as (an
    operator reads what they own: the checks before the read made sure)."""
    await log_read(
        conn,
        actor=who.name,
        role=who.role,
        operator_id=who.operator_id,
        kind=kind,
        why=why or ("owner" if who.role == "operator" else who.role),
        elder_id=elder_id,
        case_id=case_id,
        call_id=call_id,
        target=target,
    )
