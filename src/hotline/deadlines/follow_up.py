"""Whom a follow-up call rings (R12: the family, by tier; R19: the served elder, on the
number the case came in on)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.cases import store as cases
from hotline.db.models import Case, Contact
from hotline.deadlines.store import Claimed


async def number_for(conn: AsyncConnection, task: Claimed) -> str | None:
    if task.kind == "family_follow_up":
        query = (
            select(Contact.number)
            .join(Case, Case.elder_id == Contact.elder_id)
            .where(Case.id == task.case_id)
            .order_by(Contact.tier, Contact.is_guardian.desc(), Contact.id)
            .limit(1)
        )
        return await conn.scalar(query)
    return await cases.case_number(conn, task.case_id)
