"""Admin repository: operators, queues, members, lines and API tokens.

Every function runs in the caller's transaction (a connection from `engine.begin()`), and
every change writes exactly one audit_log row in it. Records come back as JSON-ready dicts;
no password, SIP credential or token hash ever appears in one or in the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from hotline.api.schemas import (
    FALLBACK,
    Conflict,
    Invalid,
    LineConfig,
    MemberConfig,
    NotFound,
    OperatorCreate,
    OperatorUpdate,
    QueueConfig,
    StateChange,
    TokenCreate,
)
from hotline.db.models import (
    ApiToken,
    AuditEntry,
    Call,
    Callback,
    Case,
    Line,
    Operator,
    OperatorStateChange,
    Queue,
    QueueMember,
)

Record = dict[str, Any]
SIP_REALM = "asterisk"
CHANGED = "(changed)"  # what the audit log shows for a new SIP password


@dataclass(frozen=True)
class Change:
    """What changed, as written to the audit log: ("queue", "general"), ("operator", "7")."""

    entity: str
    key: str


@dataclass(frozen=True)
class Outcome:
    record: Record | None  # None once deleted
    change: Change | None  # None when the request changed nothing
    created: bool = False


def sip_md5_cred(username: str, password: str) -> str:
    """PJSIP's md5_cred: md5("user:realm:password"); the password itself is never kept."""
    plain = f"{username}:{SIP_REALM}:{password}".encode()
    return hashlib.md5(plain, usedforsecurity=False).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def _record(row: Row[*tuple[Any, ...]]) -> Record:
    return {key: _plain(value) for key, value in row._mapping.items()}


def _pick(record: Record, keys: tuple[str, ...]) -> Record:
    return {key: record[key] for key in keys}


async def _audit(
    conn: AsyncConnection,
    actor: str,
    action: str,
    entity: str,
    key: str,
    *,
    before: Record | None,
    after: Record | None,
) -> Change:
    await conn.execute(
        insert(AuditEntry).values(
            actor=actor, action=action, entity=entity, entity_id=key, before=before, after=after
        )
    )
    return Change(entity, key)


async def _one(conn: AsyncConnection, query: Select[*tuple[Any, ...]]) -> Record | None:
    row = (await conn.execute(query)).first()
    return None if row is None else _record(row)


async def _exists(conn: AsyncConnection, *conditions: ColumnElement[bool]) -> bool:
    return bool(await conn.scalar(select(or_(*conditions))))


# --- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    name: str
    role: str
    operator_id: int | None
    token_sha256: str


async def find_token(conn: AsyncConnection, sha256: str) -> TokenRow | None:
    """A live token by its hash; an operator's token works only while the operator is active."""
    query = (
        select(ApiToken.name, ApiToken.role, ApiToken.operator_id, ApiToken.token_sha256)
        .outerjoin(Operator, Operator.id == ApiToken.operator_id)
        .where(ApiToken.token_sha256 == sha256, ApiToken.revoked_at.is_(None))
        .where(or_(ApiToken.operator_id.is_(None), Operator.active))
    )
    row = (await conn.execute(query)).first()
    return None if row is None else TokenRow(*row)


_TOKEN = (ApiToken.name, ApiToken.role, ApiToken.operator_id)


async def create_token(
    conn: AsyncConnection, actor: str, body: TokenCreate, sha256: str, *, reserved: str
) -> Outcome:
    if body.name == reserved:
        raise Conflict("name", "this name is reserved for the built-in admin token")
    if body.operator_id is not None and await _lock_operator(conn, body.operator_id) is None:
        raise Invalid("operator_id", "no such operator")
    query = (
        pg_insert(ApiToken)
        .values(name=body.name, role=body.role, operator_id=body.operator_id, token_sha256=sha256)
        .on_conflict_do_nothing()
        .returning(*_TOKEN)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("name", "a token with this name exists (names of revoked tokens stay)")
    record = _record(row)
    change = await _audit(conn, actor, "create", "token", body.name, before=None, after=record)
    return Outcome(record, change, created=True)


async def revoke_token(conn: AsyncConnection, actor: str, name: str) -> Outcome:
    query = (
        update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(*_TOKEN)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("name")
    change = await _audit(conn, actor, "delete", "token", name, before=_record(row), after=None)
    return Outcome(None, change)


# --- operators ---------------------------------------------------------------------------

_OPERATOR = (
    Operator.id,
    Operator.username,
    Operator.display_name,
    Operator.sip_endpoint,
    Operator.line_cap,
    Operator.active,
    Operator.state,
    Operator.state_reason,
    Operator.state_since,
    Operator.created_at,
)
_OPERATOR_AUDIT = ("id", "username", "display_name", "sip_endpoint", "line_cap", "active")


async def _lock_operator(conn: AsyncConnection, operator_id: int) -> int | None:
    """Hold the operator (against a concurrent delete) while a row referring to it is written."""
    query = select(Operator.id).where(Operator.id == operator_id).with_for_update(read=True)
    return await conn.scalar(query)


async def list_operators(conn: AsyncConnection) -> list[Record]:
    rows = await conn.execute(select(*_OPERATOR).order_by(Operator.id))
    return [_record(row) for row in rows]


async def get_operator(conn: AsyncConnection, operator_id: int, *, lock: bool = False) -> Record:
    query = select(*_OPERATOR).where(Operator.id == operator_id)
    record = await _one(conn, query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("id")
    return record


async def create_operator(conn: AsyncConnection, actor: str, body: OperatorCreate) -> Outcome:
    query = (
        pg_insert(Operator)
        .values(
            username=body.username,
            sip_endpoint=body.username,
            display_name=body.display_name,
            sip_md5_cred=sip_md5_cred(body.username, body.sip_password),
            line_cap=body.line_cap,
            active=body.active,
        )
        .on_conflict_do_nothing()
        .returning(*_OPERATOR)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("username", "an operator or SIP endpoint with this name exists")
    record = _record(row)
    after = {**_pick(record, _OPERATOR_AUDIT), "sip_password": "(set)"}
    change = await _audit(
        conn, actor, "create", "operator", str(record["id"]), before=None, after=after
    )
    return Outcome(record, change, created=True)


async def update_operator(
    conn: AsyncConnection, actor: str, before: Record, body: OperatorUpdate
) -> Outcome:
    """`before` comes from get_operator(lock=True) in the same transaction."""
    values: dict[str, Any] = {
        key: getattr(body, key)
        for key in ("display_name", "line_cap", "active")
        if getattr(body, key) != before[key]
    }
    if body.sip_password is not None:
        cred = sip_md5_cred(before["username"], body.sip_password)
        stored = await conn.scalar(select(Operator.sip_md5_cred).where(Operator.id == before["id"]))
        if not hmac.compare_digest(cred, stored or ""):
            values["sip_md5_cred"] = cred
    if not values:
        return Outcome(before, None)
    query = update(Operator).where(Operator.id == before["id"]).values(**values)
    record = _record((await conn.execute(query.returning(*_OPERATOR))).one())
    after = _pick(record, _OPERATOR_AUDIT)
    if "sip_md5_cred" in values:
        after["sip_password"] = CHANGED
    change = await _audit(
        conn,
        actor,
        "update",
        "operator",
        str(before["id"]),
        before=_pick(before, _OPERATOR_AUDIT),
        after=after,
    )
    return Outcome(record, change)


async def delete_operator(conn: AsyncConnection, actor: str, operator_id: int) -> Outcome:
    """Delete an operator nothing refers to; one with history is deactivated instead."""
    before = await get_operator(conn, operator_id, lock=True)
    referenced = await _exists(
        conn,
        exists().where(Call.operator_id == operator_id),
        exists().where(Case.owner_operator_id == operator_id),
        exists().where(Callback.done_by == operator_id),
        exists().where(ApiToken.operator_id == operator_id),
    )
    key = str(operator_id)
    if not referenced:
        await conn.execute(delete(Operator).where(Operator.id == operator_id))
        change = await _audit(
            conn,
            actor,
            "delete",
            "operator",
            key,
            before=_pick(before, _OPERATOR_AUDIT),
            after=None,
        )
        return Outcome(None, change)
    if not before["active"]:
        return Outcome(before, None)
    query = update(Operator).where(Operator.id == operator_id).values(active=False)
    record = _record((await conn.execute(query.returning(*_OPERATOR))).one())
    change = await _audit(
        conn,
        actor,
        "update",
        "operator",
        key,
        before=_pick(before, _OPERATOR_AUDIT),
        after=_pick(record, _OPERATOR_AUDIT),
    )
    return Outcome(record, change)


async def set_state(
    conn: AsyncConnection, actor: str, operator_id: int, body: StateChange
) -> Outcome:
    before = await get_operator(conn, operator_id, lock=True)
    if body.state != "logged_out" and not before["active"]:
        raise Conflict("state", "the operator is inactive")
    if (before["state"], before["state_reason"]) == (body.state, body.reason):
        return Outcome(before, None)
    query = (
        update(Operator)
        .where(Operator.id == operator_id)
        .values(state=body.state, state_reason=body.reason, state_since=func.now())
        .returning(*_OPERATOR)
    )
    record = _record((await conn.execute(query)).one())
    await conn.execute(
        insert(OperatorStateChange).values(
            operator_id=operator_id, at=func.now(), state=body.state, reason=body.reason
        )
    )
    keys = ("state", "state_reason")
    change = await _audit(
        conn,
        actor,
        "state",
        "operator",
        str(operator_id),
        before=_pick(before, keys),
        after=_pick(record, keys),
    )
    return Outcome(record, change)


# --- queues ------------------------------------------------------------------------------

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
    return [_record(row) for row in rows]


async def get_queue(conn: AsyncConnection, name: str, *, lock: bool = False) -> Record:
    query = select(*_QUEUE_SETTINGS, Queue.updated_at).where(Queue.name == name)
    record = await _one(conn, query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("name")
    return record


async def create_queue(conn: AsyncConnection, actor: str, body: QueueConfig) -> Outcome:
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
    record = _record(row)
    change = await _audit(
        conn, actor, "create", "queue", body.name, before=None, after=_pick(record, _QUEUE_AUDIT)
    )
    return Outcome(record, change, created=True)


async def update_queue(
    conn: AsyncConnection, actor: str, before: Record, body: QueueConfig
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
    record = _record((await conn.execute(query)).one())
    change = await _audit(
        conn,
        actor,
        "update",
        "queue",
        body.name,
        before=_pick(before, _QUEUE_AUDIT),
        after=_pick(record, _QUEUE_AUDIT),
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
    ):
        if await _exists(conn, condition):
            raise Conflict("name", detail)
    await conn.execute(delete(Queue).where(Queue.id == queue_id))
    change = await _audit(
        conn, actor, "delete", "queue", name, before=_pick(before, _QUEUE_AUDIT), after=None
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
    return [_record(row) for row in rows]


async def _member(conn: AsyncConnection, queue_id: int, operator_id: int) -> Record | None:
    query = _MEMBERS.where(QueueMember.queue_id == queue_id, QueueMember.operator_id == operator_id)
    return await _one(conn, query)


async def put_member(
    conn: AsyncConnection, actor: str, queue: str, operator_id: int, body: MemberConfig
) -> Outcome:
    queue_id = await _existing_queue_id(conn, queue)
    if await _lock_operator(conn, operator_id) is None:
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
    change = await _audit(
        conn,
        actor,
        "create" if before is None else "update",
        "queue_member",
        f"{queue}/{operator_id}",
        before=None if before is None else _pick(before, _MEMBER_AUDIT),
        after=_pick(record, _MEMBER_AUDIT),
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
    change = await _audit(
        conn, actor, "delete", "queue_member", key, before=_pick(before, _MEMBER_AUDIT), after=None
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
    return [_record(row) for row in await conn.execute(_LINES.order_by(Line.entry))]


async def get_line(conn: AsyncConnection, entry: str, *, lock: bool = False) -> Record:
    query = _LINES.where(Line.entry == entry)
    record = await _one(conn, query.with_for_update(of=Line) if lock else query)
    if record is None:
        raise NotFound("entry")
    return record


def _time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


async def update_line(
    conn: AsyncConnection, actor: str, before: Record, body: LineConfig
) -> Outcome:
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
    change = await _audit(
        conn,
        actor,
        "update",
        "line",
        before["entry"],
        before=_pick(before, _LINE_AUDIT),
        after=_pick(record, _LINE_AUDIT),
    )
    return Outcome(record, change)


# --- audit -------------------------------------------------------------------------------


async def audit_entries(conn: AsyncConnection, limit: int) -> list[Record]:
    query = (
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.entity,
            AuditEntry.entity_id,
            AuditEntry.before,
            AuditEntry.after,
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in await conn.execute(query)]
