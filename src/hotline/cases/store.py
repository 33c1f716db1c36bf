"""Cases as the API and the CLI read them: the latest, and one case's timeline."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Case, CaseEvent


async def recent_cases(conn: AsyncConnection, limit: int = 50) -> list[dict[str, Any]]:
    steps = (
        select(CaseEvent.case_id, func.count().label("steps"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    query = (
        select(
            Case.id,
            Case.number,
            Case.opened_at,
            Case.case_class.label("class"),
            Case.status,
            Case.channel,
            Case.elder_id,
            Case.identified,
            func.coalesce(steps.c.steps, 0).label("steps"),
        )
        .outerjoin(steps, steps.c.case_id == Case.id)
        .order_by(Case.opened_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def case_timeline(conn: AsyncConnection, case_id: uuid.UUID) -> list[dict[str, Any]]:
    query = (
        select(CaseEvent.at, CaseEvent.actor, CaseEvent.kind, CaseEvent.detail)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def case_exists(conn: AsyncConnection, case_id: uuid.UUID) -> bool:
    return (await conn.scalar(select(Case.id).where(Case.id == case_id))) is not None
