"""Callbacks in PostgreSQL: the pending ones (loaded at start), listings for the API, and
the checks an API request needs. Writes go through the recorder (db.records)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.callbacks.policy import CaseParties
from hotline.core.phone import try_normalise
from hotline.db.audit import as_record
from hotline.db.models import Call, Callback, Case, Contact, ElderPhone, Queue


@dataclass
class Pending:
    """A callback still to make, as the scheduler keeps it."""

    callback_id: uuid.UUID
    case_id: uuid.UUID
    number: str
    queue: str
    due_at: dt.datetime
    attempt: int  # the next attempt's number, 1-based
    max_attempts: int
    spacing_s: int
    reason: str
    owner: int | None = None  # the case's owner: offered the call first (R14)
    tries: int = 0  # calls placed, attempts or not (an operator may leave before dialling)
    active: uuid.UUID | None = None  # the call placed for it now
    reported: bool = False


async def pending(conn: AsyncConnection, default_queue: str = "general") -> list[Pending]:
    query = (
        select(
            Callback.id,
            Callback.case_id,
            Callback.number,
            Queue.name,
            Callback.due_at,
            Callback.attempts,
            Callback.max_attempts,
            Callback.spacing_s,
            Callback.reason,
            Case.owner_operator_id,
        )
        .outerjoin(Queue, Queue.id == Callback.queue_id)
        .join(Case, Case.id == Callback.case_id)
        .where(Callback.status == "pending", Callback.number.is_not(None))
        .order_by(Callback.due_at)
    )
    return [
        Pending(
            callback_id=row.id,
            case_id=row.case_id,
            number=row.number,
            queue=row.name or default_queue,
            due_at=row.due_at,
            attempt=row.attempts + 1,
            max_attempts=row.max_attempts,
            spacing_s=row.spacing_s,
            reason=row.reason,
            owner=row.owner_operator_id,
        )
        for row in await conn.execute(query)
    ]


_LISTED = (
    Callback.id,
    Callback.case_id,
    Case.number.label("case_number"),
    Callback.call_id,
    Callback.number,
    Callback.reason,
    Callback.status,
    Queue.name.label("queue"),
    Callback.created_at,
    Callback.due_at,
    Callback.attempts,
    Callback.max_attempts,
    Callback.last_outcome,
    Callback.done_at,
    Callback.done_by,
    Callback.requested_by,
)


async def listed(
    conn: AsyncConnection, *, status: str | None, limit: int, owner: int | None = None
) -> list[dict[str, Any]]:
    """The latest due first; with `owner`, only callbacks on the cases that operator owns."""
    query = (
        select(*_LISTED)
        .join(Case, Case.id == Callback.case_id)
        .outerjoin(Queue, Queue.id == Callback.queue_id)
        .order_by(Callback.due_at.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Callback.status == status)
    if owner is not None:
        query = query.where(Case.owner_operator_id == owner)
    return [as_record(row) for row in await conn.execute(query)]


async def case_parties(conn: AsyncConnection, case_id: uuid.UUID) -> CaseParties | None:
    """The case's owner, status and the numbers that are its own, or None: no such case."""
    row = (
        await conn.execute(
            select(Case.owner_operator_id, Case.status, Case.elder_id).where(Case.id == case_id)
        )
    ).first()
    if row is None:
        return None
    sources = [select(Call.caller_number.label("n")).where(Call.case_id == case_id)]
    if row.elder_id is not None:
        sources.append(select(ElderPhone.number).where(ElderPhone.elder_id == row.elder_id))
        sources.append(select(Contact.number).where(Contact.elder_id == row.elder_id))
    numbers = (await conn.scalars(union(*sources))).all()
    own = frozenset(filter(None, (try_normalise(n) for n in numbers)))
    return CaseParties(row.owner_operator_id, row.status, own)


async def case_queue(conn: AsyncConnection, case_id: uuid.UUID) -> str | None:
    """The queue the case's latest call waited in."""
    query = (
        select(Queue.name)
        .join(Call, Call.queue_id == Queue.id)
        .where(Call.case_id == case_id)
        .order_by(Call.started_at.desc())
        .limit(1)
    )
    return await conn.scalar(query)
