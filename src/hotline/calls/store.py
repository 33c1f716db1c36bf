"""Calls as the API and the CLI read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Call, Case


async def recent_calls(conn: AsyncConnection, limit: int = 50) -> list[dict[str, Any]]:
    query = (
        select(
            Call.id,
            Call.started_at,
            Call.entry,
            Call.caller_kind,
            Call.elder_id,
            Call.answered_at,
            Call.ended_at,
            Call.ended_by,
            Call.end_cause,
            Case.number.label("case_number"),
        )
        .outerjoin(Case, Case.id == Call.case_id)
        .order_by(Call.started_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]
