"""What the supervision reads of PostgreSQL (the operator supervised, and the supervisor)
and writes: the access log's row of each supervision and change of mode (R27)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.db.access import log_read
from hotline.db.models import Operator
from hotline.supervision.checks import SupervisorRow
from hotline.supervision.modes import Mode
from hotline.supervision.stasis import Target


async def operator_exists(conn: AsyncConnection, operator_id: int) -> bool:
    found = await conn.scalar(select(Operator.id).where(Operator.id == operator_id))
    return found is not None


async def supervisor(conn: AsyncConnection, operator_id: int) -> SupervisorRow | None:
    query = select(Operator.id, Operator.active, Operator.role, Operator.sip_endpoint).where(
        Operator.id == operator_id
    )
    row = (await conn.execute(query)).first()
    return None if row is None else SupervisorRow(*row)


def logger(engine: AsyncEngine) -> Callable[[Target, Mode, str, str], Awaitable[None]]:
    """Supervisions' Log: one row of the access log, naming who asked, whose phone listens,
    which operator on which call, and how (listen, whisper, barge)."""

    async def log(target: Target, mode: Mode, by: str, role: str) -> None:
        async with engine.begin() as conn:
            await log_read(
                conn,
                actor=by,
                role=role,
                operator_id=target.supervisor_id,
                kind="supervision",
                why="admin" if role == "admin" else "supervisor",
                call_id=target.call_id,
                target=f"operator {target.operator_id}: {mode}",
            )

    return log
