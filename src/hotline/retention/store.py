"""What the purge reads and deletes, and the legal hold on a case. Each purge writes its
audit row (actor, what, before when, how many) in the same transaction as the deletion."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.cases.store import step
from hotline.db.audit import audit
from hotline.db.models import Case, CaseRecording, ConsoleSession, RecordAccess

_HELD = select(Case.id).where(Case.hold)


async def recordings_due(conn: AsyncConnection, before: dt.datetime, limit: int) -> list[str]:
    """Recordings stopped before `before`, not purged yet, of cases not on hold."""
    query = (
        select(CaseRecording.name)
        .join(Case, Case.id == CaseRecording.case_id)
        .where(
            CaseRecording.purged_at.is_(None),
            func.coalesce(CaseRecording.stopped_at, CaseRecording.started_at) < before,
            Case.hold.is_(False),
        )
        .order_by(CaseRecording.started_at)
        .limit(limit)
    )
    return list((await conn.scalars(query)).all())


async def recordings_purged(
    conn: AsyncConnection, names: list[str], before: dt.datetime, actor: str
) -> None:
    """Their files are gone: marked (the rows stay: a recording existed) and audited."""
    await conn.execute(
        update(CaseRecording).where(CaseRecording.name.in_(names)).values(purged_at=func.now())
    )
    await _audited(conn, actor, "recordings", before, len(names))


async def purge_sessions(conn: AsyncConnection, before: dt.datetime, actor: str) -> int:
    """Console sessions that ended (or expired) before `before`."""
    ended = func.coalesce(ConsoleSession.ended_at, ConsoleSession.expires_at)
    result = await conn.execute(delete(ConsoleSession).where(ended < before))
    count = result.rowcount or 0
    if count:
        await _audited(conn, actor, "console_sessions", before, count)
    return count


async def purge_access(conn: AsyncConnection, before: dt.datetime, actor: str) -> int:
    """The access log's rows older than `before`, but those about a case on hold. Only the
    retention role may (the table's trigger refuses everyone else)."""
    query = delete(RecordAccess).where(
        RecordAccess.at < before,
        or_(RecordAccess.case_id.is_(None), RecordAccess.case_id.not_in(_HELD)),
    )
    count = (await conn.execute(query)).rowcount or 0
    if count:
        await _audited(conn, actor, "record_access", before, count)
    return count


async def set_hold(
    conn: AsyncConnection, case_id: uuid.UUID, hold: bool, actor: str, reason: str
) -> bool | None:
    """Put the case under a legal hold (or lift it); None: no such case. A timeline step
    and an audit row name who and why."""
    before = await conn.scalar(select(Case.hold).where(Case.id == case_id).with_for_update())
    if before is None:
        return None
    if before != hold:
        await conn.execute(update(Case).where(Case.id == case_id).values(hold=hold))
        kind = "hold_set" if hold else "hold_lifted"
        await step(conn, case_id, actor, kind, {"reason": reason})
        await audit(
            conn,
            actor,
            "update",
            "case_hold",
            str(case_id),
            before={"hold": before},
            after={"hold": hold, "reason": reason},
        )
    return hold


async def _audited(
    conn: AsyncConnection, actor: str, what: str, before: dt.datetime, count: int
) -> None:
    await audit(
        conn,
        actor,
        "purge",
        what,
        before.date().isoformat(),
        before=None,
        after={"count": count, "before": before.isoformat()},
    )
