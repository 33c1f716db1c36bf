"""Cases as the API and the CLI read them: the latest, and one case's timeline."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import NotFound
from hotline.db.models import Call, Case, CaseEvent, Elder


async def recent_cases(
    conn: AsyncConnection, limit: int = 50, owner: int | None = None
) -> list[dict[str, Any]]:
    """The latest cases; with `owner`, only the cases that operator owns."""
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
    if owner is not None:
        query = query.where(Case.owner_operator_id == owner)
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


# --- handling (cases.handling decides; these write, in the caller's transaction) ----------

_CASE = (
    Case.id,
    Case.number,
    Case.status,
    Case.case_class.label("class"),
    Case.reasonable,
    Case.unreasonable_reason,
    Case.owner_operator_id,
    Case.elder_id,
    Case.opened_at,
    Case.closed_at,
    Case.close_reason,
)


async def case_for_change(conn: AsyncConnection, case_id: uuid.UUID) -> dict[str, Any]:
    """The case, locked for this transaction; NotFound when there is none."""
    row = (await conn.execute(select(*_CASE).where(Case.id == case_id).with_for_update())).first()
    if row is None:
        raise NotFound("case_id", "no such case")
    return dict(row._mapping)


async def step(
    conn: AsyncConnection, case_id: uuid.UUID, actor: str, kind: str, detail: dict[str, Any]
) -> None:
    """One entry on the timeline, naming who did it."""
    await conn.execute(
        insert(CaseEvent).values(
            id=uuid.uuid4(), case_id=case_id, at=func.now(), actor=actor, kind=kind, detail=detail
        )
    )


async def update_case(
    conn: AsyncConnection, case_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    columns = {("case_class" if k == "class" else k): v for k, v in values.items()}
    row = (
        await conn.execute(
            update(Case).where(Case.id == case_id).values(**columns).returning(*_CASE)
        )
    ).first()
    assert row is not None
    return dict(row._mapping)


async def elder_district(conn: AsyncConnection, elder_id: int | None) -> str | None:
    if elder_id is None:
        return None
    district: str | None = await conn.scalar(select(Elder.district).where(Elder.id == elder_id))
    return district


async def open_case_owner(conn: AsyncConnection, elder_id: int) -> int | None:
    """The operator who owns the elder's most recent open case (R14), if any."""
    query = (
        select(Case.owner_operator_id)
        .where(
            Case.elder_id == elder_id,
            Case.status != "closed",
            Case.owner_operator_id.is_not(None),
        )
        .order_by(Case.opened_at.desc())
        .limit(1)
    )
    return await conn.scalar(query)


async def case_number(conn: AsyncConnection, case_id: uuid.UUID) -> str | None:
    """The number the case's latest call came from (to call back)."""
    query = (
        select(Call.caller_number)
        .where(Call.case_id == case_id, Call.caller_number.is_not(None))
        .order_by(Call.started_at.desc())
        .limit(1)
    )
    return await conn.scalar(query)


async def owner_of(conn: AsyncConnection, case_id: uuid.UUID) -> tuple[int | None] | None:
    """(the owner's id or None), or None when there is no such case."""
    row = (await conn.execute(select(Case.owner_operator_id).where(Case.id == case_id))).first()
    return None if row is None else (row[0],)


async def link_elder(
    conn: AsyncConnection, call_id: uuid.UUID, elder_id: int, actor: str
) -> uuid.UUID | None:
    """An unknown caller's record made during the call: their case (and the call) now name
    the elder. Returns the case, or None when the call has none (or one naming an elder)."""
    case_id = await conn.scalar(select(Call.case_id).where(Call.id == call_id))
    if case_id is None:
        return None
    linked = await conn.scalar(
        update(Case)
        .where(Case.id == case_id, Case.elder_id.is_(None))
        .values(elder_id=elder_id, identified=True)
        .returning(Case.id)
    )
    if linked is None:
        return None
    await conn.execute(update(Call).where(Call.id == call_id).values(elder_id=elder_id))
    await step(conn, case_id, actor, "elder_recorded", {"elder_id": elder_id})
    return case_id
