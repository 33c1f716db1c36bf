"""Queues, their members and the lines in PostgreSQL, as the admin API changes them.
Every change writes one audit row in the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.words import FALLBACK
from hotline.db.audit import Outcome, Record, any_of, as_record, audit, one, pick
from hotline.db.models import Call, Callback, Line, Operator, Queue, QueueMember
from hotline.operators.store import lock_operator
from hotline.queues.schemas import LineBody, MemberBody, QueueBody

_QUEUE_SETTINGS = (
    Queue.name,
    Queue.display_name,
    Queue.strategy,
    Queue.ring_timeout_s,
    Queue.wrapup_s,
    Queue.service_level_s,
    Queue.overflow_after_s,
    Queue.overflow_target,
    Queue.announce_every_s,
    Queue.callback_attempts,
    Queue.callback_spacing_s,
    Queue.callback_on_abandon,
)
_QUEUE_AUDIT = tuple(column.key for column in _QUEUE_SETTINGS)


async def _queue_id(conn: AsyncConnection, name: str, *, lock: bool = False) -> int | None:
    """A queue's id; with lock, held against a concurrent delete while it is referred to."""
    query = select(Queue.id).where(Queue.name == name)
    return await conn.scalar(query.with_for_update(read=True) if lock else query)


async def _check_overflow(conn: AsyncConnection, name: str, target: str | None) -> None:
    """The target exists (or is the fallback) and following overflows never comes back."""
    if target is None or target == FALLBACK:
        return
    if await _queue_id(conn, target, lock=True) is None:
        raise Invalid("overflow_target", "no such queue")
    rows = await conn.execute(select(Queue.name, Queue.overflow_target))
    targets = {queue: overflow for queue, overflow in rows}
    seen = {name}
    step: str | None = target
    while step is not None and step != FALLBACK:
        if step in seen:
            raise Invalid("overflow_target", "this would make an overflow loop")
        seen.add(step)
        step = targets.get(step)


async def list_queues(conn: AsyncConnection) -> list[Record]:
    rows = await conn.execute(select(*_QUEUE_SETTINGS, Queue.updated_at).order_by(Queue.name))
    return [as_record(row) for row in rows]


async def get_queue(conn: AsyncConnection, name: str, *, lock: bool = False) -> Record:
    query = select(*_QUEUE_SETTINGS, Queue.updated_at).where(Queue.name == name)
    record = await one(conn, query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("name")
    return record


async def create_queue(conn: AsyncConnection, actor: str, body: QueueBody) -> Outcome:
    await _check_overflow(conn, body.name, body.overflow_target)
    query = (
        pg_insert(Queue)
        .values(**body.model_dump())
        .on_conflict_do_nothing()
        .returning(*_QUEUE_SETTINGS, Queue.updated_at)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("name", "a queue with this name exists")
    record = as_record(row)
    change = await audit(
        conn, actor, "create", "queue", body.name, before=None, after=pick(record, _QUEUE_AUDIT)
    )
    return Outcome(record, change, created=True)


async def update_queue(
    conn: AsyncConnection, actor: str, before: Record, body: QueueBody
) -> Outcome:
    """`before` comes from get_queue(lock=True); the name never changes."""
    values = {key: value for key, value in body.model_dump().items() if value != before[key]}
    if not values:
        return Outcome(before, None)
    if "overflow_target" in values:
        await _check_overflow(conn, body.name, body.overflow_target)
    query = (
        update(Queue)
        .where(Queue.name == body.name)
        .values(**values, updated_at=func.now())
        .returning(*_QUEUE_SETTINGS, Queue.updated_at)
    )
    record = as_record((await conn.execute(query)).one())
    change = await audit(
        conn,
        actor,
        "update",
        "queue",
        body.name,
        before=pick(before, _QUEUE_AUDIT),
        after=pick(record, _QUEUE_AUDIT),
    )
    return Outcome(record, change)


async def delete_queue(conn: AsyncConnection, actor: str, name: str) -> Outcome:
    """Refused while a line routes to it, a queue overflows into it, or calls were queued in it.
    Its members go with it."""
    before = await get_queue(conn, name, lock=True)
    queue_id = await _existing_queue_id(conn, name, lock=False)
    for condition, detail in (
        (
            exists().where(or_(Line.queue_id == queue_id, Line.after_hours_queue_id == queue_id)),
            "a line routes calls to this queue",
        ),
        (
            exists().where(Queue.overflow_target == name),
            "another queue overflows into this queue",
        ),
        (exists().where(Call.queue_id == queue_id), "calls were queued here; it stays for them"),
        (
            exists().where(Callback.queue_id == queue_id),
            "callbacks were queued here; it stays for them",
        ),
    ):
        if await any_of(conn, condition):
            raise Conflict("name", detail)
    await conn.execute(delete(Queue).where(Queue.id == queue_id))
    change = await audit(
        conn, actor, "delete", "queue", name, before=pick(before, _QUEUE_AUDIT), after=None
    )
    return Outcome(None, change)


# --- queue members -----------------------------------------------------------------------

_MEMBERS = (
    select(
        Queue.name.label("queue"),
        QueueMember.operator_id,
        Operator.username,
        Operator.display_name,
        Operator.active,
        Operator.state,
        QueueMember.penalty,
    )
    .join(Queue, Queue.id == QueueMember.queue_id)
    .join(Operator, Operator.id == QueueMember.operator_id)
)
_MEMBER_AUDIT = ("queue", "operator_id", "penalty")


async def _existing_queue_id(conn: AsyncConnection, name: str, *, lock: bool = True) -> int:
    queue_id = await _queue_id(conn, name, lock=lock)
    if queue_id is None:
        raise NotFound("name")
    return queue_id


async def list_members(conn: AsyncConnection, queue: str) -> list[Record]:
    queue_id = await _existing_queue_id(conn, queue, lock=False)
    query = _MEMBERS.where(QueueMember.queue_id == queue_id)
    rows = await conn.execute(query.order_by(QueueMember.penalty, QueueMember.operator_id))
    return [as_record(row) for row in rows]


async def _member(conn: AsyncConnection, queue_id: int, operator_id: int) -> Record | None:
    query = _MEMBERS.where(QueueMember.queue_id == queue_id, QueueMember.operator_id == operator_id)
    return await one(conn, query)


async def put_member(
    conn: AsyncConnection, actor: str, queue: str, operator_id: int, body: MemberBody
) -> Outcome:
    queue_id = await _existing_queue_id(conn, queue)
    if await lock_operator(conn, operator_id) is None:
        raise NotFound("operator_id")
    before = await _member(conn, queue_id, operator_id)
    if before is not None and before["penalty"] == body.penalty:
        return Outcome(before, None)
    await conn.execute(
        pg_insert(QueueMember)
        .values(queue_id=queue_id, operator_id=operator_id, penalty=body.penalty)
        .on_conflict_do_update(
            index_elements=[QueueMember.queue_id, QueueMember.operator_id],
            set_={"penalty": body.penalty},
        )
    )
    record = await _member(conn, queue_id, operator_id)
    assert record is not None
    change = await audit(
        conn,
        actor,
        "create" if before is None else "update",
        "queue_member",
        f"{queue}/{operator_id}",
        before=None if before is None else pick(before, _MEMBER_AUDIT),
        after=pick(record, _MEMBER_AUDIT),
    )
    return Outcome(record, change, created=before is None)


async def delete_member(conn: AsyncConnection, actor: str, queue: str, operator_id: int) -> Outcome:
    queue_id = await _existing_queue_id(conn, queue)
    before = await _member(conn, queue_id, operator_id)
    if before is None:
        raise NotFound("operator_id")
    await conn.execute(
        delete(QueueMember).where(
            QueueMember.queue_id == queue_id, QueueMember.operator_id == operator_id
        )
    )
    key = f"{queue}/{operator_id}"
    change = await audit(
        conn, actor, "delete", "queue_member", key, before=pick(before, _MEMBER_AUDIT), after=None
    )
    return Outcome(None, change)


# --- lines -------------------------------------------------------------------------------

_AFTER_HOURS = aliased(Queue)
_LINES = (
    select(
        Line.entry,
        Queue.name.label("queue"),
        Line.opens,
        Line.closes,
        _AFTER_HOURS.name.label("after_hours_queue"),
        Line.offer_callback,
    )
    .join(Queue, Queue.id == Line.queue_id)
    .outerjoin(_AFTER_HOURS, _AFTER_HOURS.id == Line.after_hours_queue_id)
)
_LINE_AUDIT = ("entry", "queue", "opens", "closes", "after_hours_queue", "offer_callback")


async def list_lines(conn: AsyncConnection) -> list[Record]:
    return [as_record(row) for row in await conn.execute(_LINES.order_by(Line.entry))]


async def get_line(conn: AsyncConnection, entry: str, *, lock: bool = False) -> Record:
    query = _LINES.where(Line.entry == entry)
    record = await one(conn, query.with_for_update(of=Line) if lock else query)
    if record is None:
        raise NotFound("entry")
    return record


def _time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


async def update_line(conn: AsyncConnection, actor: str, before: Record, body: LineBody) -> Outcome:
    """`before` comes from get_line(lock=True); queues are given by name."""
    if all(before[key] == value for key, value in body.model_dump().items()):
        return Outcome(before, None)
    queue_id = await _queue_id(conn, body.queue, lock=True)
    if queue_id is None:
        raise Invalid("queue", "no such queue")
    after_hours_id = None
    if body.after_hours_queue is not None:
        after_hours_id = await _queue_id(conn, body.after_hours_queue, lock=True)
        if after_hours_id is None:
            raise Invalid("after_hours_queue", "no such queue")
    await conn.execute(
        update(Line)
        .where(Line.entry == before["entry"])
        .values(
            queue_id=queue_id,
            opens=_time(body.opens),
            closes=_time(body.closes),
            after_hours_queue_id=after_hours_id,
            offer_callback=body.offer_callback,
        )
    )
    record = await get_line(conn, before["entry"])
    change = await audit(
        conn,
        actor,
        "update",
        "line",
        before["entry"],
        before=pick(before, _LINE_AUDIT),
        after=pick(record, _LINE_AUDIT),
    )
    return Outcome(record, change)
