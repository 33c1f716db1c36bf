"""What the supervision reads of PostgreSQL: the operator supervised, and the supervisor."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Operator
from hotline.supervision.checks import SupervisorRow


async def operator_exists(conn: AsyncConnection, operator_id: int) -> bool:
    found = await conn.scalar(select(Operator.id).where(Operator.id == operator_id))
    return found is not None


async def supervisor(conn: AsyncConnection, operator_id: int) -> SupervisorRow | None:
    query = select(Operator.id, Operator.active, Operator.role, Operator.sip_endpoint).where(
        Operator.id == operator_id
    )
    row = (await conn.execute(query)).first()
    return None if row is None else SupervisorRow(*row)
