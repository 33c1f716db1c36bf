"""Case tasks as the scheduler reads and claims them.

Claims are single UPDATEs guarded by the column they set (`warned_at IS NULL`, `escalated_at
IS NULL`, `status = 'open'`), so a task is warned, escalated or closed once, whatever number
of schedulers run or restart (R13: every step on the case's timeline once).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.cases import store as cases
from hotline.db.models import Case, CaseTask
from hotline.deadlines import rules


@dataclass(frozen=True)
class Claimed:
    task_id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    due_at: dt.datetime
    owner_operator_id: int | None


_CLAIMED = (
    CaseTask.id,
    CaseTask.case_id,
    CaseTask.kind,
    CaseTask.due_at,
    CaseTask.owner_operator_id,
)


def _claimed(rows: Any) -> list[Claimed]:
    return [Claimed(*row) for row in rows]


async def next_due(conn: AsyncConnection, now: dt.datetime) -> dt.datetime | None:
    """The next moment something is due: a warning or a due time (ix_case_tasks_open_due)."""
    due = await conn.scalar(
        select(func.min(CaseTask.due_at)).where(
            CaseTask.status == "open", CaseTask.escalated_at.is_(None)
        )
    )
    warn = await conn.scalar(
        select(func.min(CaseTask.due_at)).where(
            CaseTask.status == "open",
            CaseTask.warned_at.is_(None),
            CaseTask.due_at > now,
        )
    )
    times = [t for t in (due, None if warn is None else rules.warn_at(warn)) if t is not None]
    return min(times) if times else None


async def claim_warnings(conn: AsyncConnection, now: dt.datetime) -> list[Claimed]:
    query = (
        update(CaseTask)
        .where(
            CaseTask.status == "open",
            CaseTask.warned_at.is_(None),
            CaseTask.due_at > now,
            CaseTask.due_at <= now + rules.WARN_BEFORE,
        )
        .values(warned_at=now)
        .returning(*_CLAIMED)
    )
    return _claimed(await conn.execute(query))


async def claim_due(conn: AsyncConnection, now: dt.datetime) -> list[Claimed]:
    """Tasks at or past their due time, not yet escalated (nor closed on their own)."""
    query = (
        update(CaseTask)
        .where(
            CaseTask.status == "open",
            CaseTask.escalated_at.is_(None),
            CaseTask.due_at <= now,
        )
        .values(escalated_at=now)
        .returning(*_CLAIMED)
    )
    return _claimed(await conn.execute(query))


async def auto_close(conn: AsyncConnection, task: Claimed, now: dt.datetime) -> bool:
    """R20: a served case no one complained about in 3 days closes; not when a dissatisfied
    answer or a complaint keeps it open (an open task of those), nor when it is closed."""
    await conn.execute(
        update(CaseTask).where(CaseTask.id == task.task_id).values(status="done", done_at=now)
    )
    blocking = await conn.scalar(
        select(func.count())
        .select_from(CaseTask)
        .where(
            CaseTask.case_id == task.case_id,
            CaseTask.status == "open",
            or_(CaseTask.kind == "dissatisfied", CaseTask.kind.like("complaint%")),
        )
    )
    if blocking:
        return False
    closed = await conn.scalar(
        update(Case)
        .where(Case.id == task.case_id, Case.status != "closed")
        .values(status="closed", closed_at=now, close_reason=rules.AUTO_CLOSE_REASON)
        .returning(Case.id)
    )
    if closed is None:
        return False
    await cases.step(conn, task.case_id, "system", "closed", {"reason": rules.AUTO_CLOSE_REASON})
    return True


async def missed(conn: AsyncConnection, task: Claimed) -> None:
    await cases.step(
        conn,
        task.case_id,
        "system",
        "deadline_missed",
        {"task_id": str(task.task_id), "kind": task.kind, "due_at": task.due_at.isoformat()},
    )


async def done(
    conn: AsyncConnection, task_id: uuid.UUID, actor: str, now: dt.datetime
) -> dict[str, Any] | None:
    """The owner says the task is done: kept if by its due time."""
    row = (
        await conn.execute(
            update(CaseTask)
            .where(CaseTask.id == task_id, CaseTask.status == "open")
            .values(status="done", done_at=now)
            .returning(CaseTask.case_id, CaseTask.kind, CaseTask.due_at)
        )
    ).first()
    if row is None:
        return None
    kept = rules.met(row.due_at, now, now)
    detail = {"task_id": str(task_id), "kind": row.kind, "kept": kept}
    await cases.step(conn, row.case_id, actor, "task_done", detail)
    return {"case_id": row.case_id, **detail}


async def task_case(conn: AsyncConnection, task_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
    row = (
        await conn.execute(select(CaseTask.case_id, CaseTask.status).where(CaseTask.id == task_id))
    ).first()
    return None if row is None else (row.case_id, row.status)


async def listed(
    conn: AsyncConnection,
    *,
    now: dt.datetime,
    state: str,
    operator_id: int | None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Open deadlines: all, due soon (warned), or overdue; one operator's or everyone's."""
    query = (
        select(
            CaseTask.id,
            CaseTask.case_id,
            Case.number.label("case_number"),
            CaseTask.kind,
            CaseTask.due_at,
            CaseTask.owner_operator_id,
            CaseTask.warned_at,
            CaseTask.escalated_at,
        )
        .join(Case, Case.id == CaseTask.case_id)
        .where(CaseTask.status == "open")
        .order_by(CaseTask.due_at)
        .limit(limit)
    )
    if state == "overdue":
        query = query.where(CaseTask.due_at <= now)
    elif state == "due_soon":
        query = query.where(and_(CaseTask.due_at > now, CaseTask.due_at <= now + rules.WARN_BEFORE))
    if operator_id is not None:
        query = query.where(CaseTask.owner_operator_id == operator_id)
    return [dict(row._mapping) for row in await conn.execute(query)]
