"""Operators in PostgreSQL: create, read, update, delete (or deactivate), their state, and
the softphone accounts Asterisk should have. Every change writes one audit row."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import Conflict, NotFound
from hotline.db.audit import Outcome, Record, any_of, as_record, audit, one, pick
from hotline.db.models import (
    ApiToken,
    Call,
    Callback,
    CallbackAttempt,
    Case,
    Operator,
    OperatorStateChange,
)
from hotline.operators.accounts import md5_cred
from hotline.operators.schemas import OperatorCreateBody, OperatorUpdateBody, StateChangeBody
from hotline.operators.sessions import end_all

CHANGED = "(changed)"  # what the audit log shows for a new SIP password


async def lock_operator(conn: AsyncConnection, operator_id: int) -> int | None:
    """Hold the operator (against a concurrent delete) while a row referring to it is written."""
    query = select(Operator.id).where(Operator.id == operator_id).with_for_update(read=True)
    return await conn.scalar(query)


_OPERATOR = (
    Operator.id,
    Operator.username,
    Operator.display_name,
    Operator.sip_endpoint,
    Operator.line_cap,
    Operator.active,
    Operator.role,
    Operator.password_hash.is_not(None).label("console_login"),
    Operator.state,
    Operator.availability,
    Operator.state_reason,
    Operator.state_since,
    Operator.created_at,
)
_OPERATOR_AUDIT = ("id", "username", "display_name", "sip_endpoint", "line_cap", "active", "role")


async def list_operators(conn: AsyncConnection) -> list[Record]:
    rows = await conn.execute(select(*_OPERATOR).order_by(Operator.id))
    return [as_record(row) for row in rows]


async def get_operator(conn: AsyncConnection, operator_id: int, *, lock: bool = False) -> Record:
    query = select(*_OPERATOR).where(Operator.id == operator_id)
    record = await one(conn, query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("id")
    return record


async def create_operator(
    conn: AsyncConnection, actor: str, body: OperatorCreateBody, password_hash: str | None = None
) -> Outcome:
    """`password_hash`: the console password's, made by the caller before the transaction
    (scrypt takes half a second: never while a connection is held)."""
    query = (
        pg_insert(Operator)
        .values(
            username=body.username,
            sip_endpoint=body.username,
            display_name=body.display_name,
            sip_md5_cred=md5_cred(body.username, body.sip_password),
            line_cap=body.line_cap,
            active=body.active,
            role=body.role,
            password_hash=password_hash,
        )
        .on_conflict_do_nothing()
        .returning(*_OPERATOR)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("username", "an operator or SIP endpoint with this name exists")
    record = as_record(row)
    after = {**pick(record, _OPERATOR_AUDIT), "sip_password": "(set)"}
    if body.console_password is not None:
        after["console_password"] = "(set)"  # noqa: S105 (a marker, not a password)
    change = await audit(
        conn, actor, "create", "operator", str(record["id"]), before=None, after=after
    )
    return Outcome(record, change, created=True)


async def update_operator(
    conn: AsyncConnection,
    actor: str,
    before: Record,
    body: OperatorUpdateBody,
    password_hash: str | None = None,
) -> Outcome:
    """`before` comes from get_operator(lock=True) in the same transaction; `password_hash`
    is the new console password's, made before it. A new password, another role or a
    deactivation ends the operator's console logins (their open consoles are closed)."""
    values: dict[str, Any] = {
        key: getattr(body, key)
        for key in ("display_name", "line_cap", "active", "role")
        if getattr(body, key) != before[key]
    }
    if body.sip_password is not None:
        cred = md5_cred(before["username"], body.sip_password)
        stored = await conn.scalar(select(Operator.sip_md5_cred).where(Operator.id == before["id"]))
        if not hmac.compare_digest(cred, stored or ""):
            values["sip_md5_cred"] = cred
    if password_hash is not None:
        values["password_hash"] = password_hash
    if not values:
        return Outcome(before, None)
    if {"password_hash", "role"} & values.keys() or values.get("active") is False:
        reason = (
            "password"
            if "password_hash" in values
            else "role"
            if "role" in values
            else "deactivated"
        )
        await end_all(conn, before["id"], now=dt.datetime.now(dt.UTC), reason=reason)
    query = update(Operator).where(Operator.id == before["id"]).values(**values)
    record = as_record((await conn.execute(query.returning(*_OPERATOR))).one())
    after = pick(record, _OPERATOR_AUDIT)
    if "sip_md5_cred" in values:
        after["sip_password"] = CHANGED
    if "password_hash" in values:
        after["console_password"] = CHANGED
    change = await audit(
        conn,
        actor,
        "update",
        "operator",
        str(before["id"]),
        before=pick(before, _OPERATOR_AUDIT),
        after=after,
    )
    return Outcome(record, change)


async def delete_operator(conn: AsyncConnection, actor: str, operator_id: int) -> Outcome:
    """Delete an operator nothing refers to; one with history is deactivated instead."""
    before = await get_operator(conn, operator_id, lock=True)
    referenced = await any_of(
        conn,
        exists().where(Call.operator_id == operator_id),
        exists().where(Case.owner_operator_id == operator_id),
        exists().where(Callback.done_by == operator_id),
        exists().where(CallbackAttempt.operator_id == operator_id),
        exists().where(ApiToken.operator_id == operator_id),
    )
    key = str(operator_id)
    if not referenced:
        await conn.execute(delete(Operator).where(Operator.id == operator_id))
        change = await audit(
            conn,
            actor,
            "delete",
            "operator",
            key,
            before=pick(before, _OPERATOR_AUDIT),
            after=None,
        )
        return Outcome(None, change)
    if not before["active"]:
        return Outcome(before, None)
    query = update(Operator).where(Operator.id == operator_id).values(active=False)
    record = as_record((await conn.execute(query.returning(*_OPERATOR))).one())
    await end_all(conn, operator_id, now=dt.datetime.now(dt.UTC), reason="deactivated")
    change = await audit(
        conn,
        actor,
        "update",
        "operator",
        key,
        before=pick(before, _OPERATOR_AUDIT),
        after=pick(record, _OPERATOR_AUDIT),
    )
    return Outcome(record, change)


async def set_state(
    conn: AsyncConnection, actor: str, operator_id: int, body: StateChangeBody
) -> Outcome:
    before = await get_operator(conn, operator_id, lock=True)
    if body.state != "logged_out" and not before["active"]:
        raise Conflict("state", "the operator is inactive")
    if before["availability"] == body.state and before["state_reason"] == body.reason:
        return Outcome(before, None)
    query = (
        update(Operator)
        .where(Operator.id == operator_id)
        .values(
            state=body.state,
            availability=body.state,
            state_reason=body.reason,
            state_since=func.now(),
        )
        .returning(*_OPERATOR)
    )
    record = as_record((await conn.execute(query)).one())
    await conn.execute(
        insert(OperatorStateChange).values(
            operator_id=operator_id, at=func.now(), state=body.state, reason=body.reason
        )
    )
    keys = ("availability", "state_reason")
    change = await audit(
        conn,
        actor,
        "state",
        "operator",
        str(operator_id),
        before=pick(before, keys),
        after=pick(record, keys),
    )
    return Outcome(record, change)


async def operator_accounts(conn: AsyncConnection) -> dict[str, str]:
    """Softphone accounts Asterisk should have: endpoint -> md5 credential."""
    rows = await conn.execute(
        select(Operator.sip_endpoint, Operator.username, Operator.sip_md5_cred).where(
            Operator.active, Operator.sip_md5_cred.is_not(None)
        )
    )
    return {(endpoint or username): cred for endpoint, username, cred in rows if cred}
