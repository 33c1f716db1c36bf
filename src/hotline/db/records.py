"""How each record (core.records) is written to PostgreSQL: one statement built once per
kind, bound to each operation's values, idempotent."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Result, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

from hotline.core.records import (
    CallAnswered,
    CallbackAttempted,
    CallbackClosed,
    CallbackDue,
    CallBreached,
    CallConnected,
    CallEnded,
    CallIdentified,
    CallQueued,
    CallStarted,
    CaseOpened,
    CaseOwned,
    CaseStep,
    Op,
    OperatorStateRecord,
)
from hotline.db.models import Base

# Each statement is built once; apply() binds an operation's values to it. Building
# statements per operation (ORM DML, cache keys) was a quarter of the service's CPU.
_TABLES = Base.metadata.tables
_calls = _TABLES["calls"].c
_cases = _TABLES["cases"].c
_P = bindparam

_CALL_STARTED = (
    insert(_TABLES["calls"])
    .values(
        id=_P("call_id"),
        linkedid=_P("linkedid"),
        channel_id=_P("channel_id"),
        entry=_P("entry"),
        caller_number=_P("caller_number"),
        started_at=_P("at"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_CALL_ANSWERED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"))
    .values(answered_at=func.coalesce(_calls.answered_at, _P("at")))
)
_CALL_IDENTIFIED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"))
    .values(caller_kind=_P("caller_kind"), elder_id=_P("elder_id"), contact_id=_P("contact_id"))
)
_CASE_OPENED = (
    insert(_TABLES["cases"])
    .values(
        id=_P("case_id"),
        opened_at=_P("at"),
        **{"class": _P("case_class")},
        status="open",
        channel=_P("channel"),
        elder_id=_P("elder_id"),
        identified=_P("identified"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_CALL_CASE = (
    update(_TABLES["calls"]).where(_calls.id == _P("call_id")).values(case_id=_P("case_id"))
)
_CASE_STEP = (
    insert(_TABLES["case_events"])
    .values(
        id=_P("event_id"),
        case_id=_P("case_id"),
        at=_P("at"),
        actor=_P("actor"),
        kind=_P("kind"),
        detail=_P("detail", type_=_TABLES["case_events"].c.detail.type),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_CALL_QUEUED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"))
    .values(
        queue_id=select(_TABLES["queues"].c.id)
        .where(_TABLES["queues"].c.name == _P("queue"))
        .scalar_subquery(),
        queued_at=func.coalesce(_calls.queued_at, _P("at")),
        priority=_P("priority"),
    )
)
_CALL_OVERFLOWED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"))
    .values(overflowed_at=func.coalesce(_calls.overflowed_at, _P("at")))
)
_CALL_CONNECTED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"), _calls.connected_at.is_(None))
    .values(connected_at=_P("at"), operator_id=_P("operator_id"))
)
_CASE_OWNED = (
    update(_TABLES["cases"])
    .where(_cases.id == _P("case_id"))
    .values(
        owner_operator_id=func.coalesce(_cases.owner_operator_id, _P("operator_id")),
        status="in_progress",
    )
)
_callbacks = _TABLES["callbacks"].c
_CALL_BREACHED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"))
    .values(sla_breached_at=func.coalesce(_calls.sla_breached_at, _P("at")))
)
_CALLBACK = (
    insert(_TABLES["callbacks"])
    .values(
        id=_P("callback_id"),
        case_id=_P("case_id"),
        call_id=_P("call_id"),
        number=_P("number"),
        reason=_P("reason"),
        waited_s=_P("waited_s"),
        created_at=_P("at"),
        status="pending",
        due_at=func.coalesce(_P("due_at", type_=_callbacks.due_at.type), _P("at")),
        queue_id=select(_TABLES["queues"].c.id)
        .where(_TABLES["queues"].c.name == _P("queue"))
        .scalar_subquery(),
        max_attempts=func.coalesce(_P("max_attempts", type_=_callbacks.max_attempts.type), 3),
        spacing_s=func.coalesce(_P("spacing_s", type_=_callbacks.spacing_s.type), 900),
        requested_by=_P("requested_by"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_ATTEMPT = (
    insert(_TABLES["callback_attempts"])
    .values(
        id=_P("attempt_id"),
        callback_id=_P("callback_id"),
        attempt=_P("attempt"),
        operator_id=_P("operator_id"),
        outcome=_P("outcome"),
        cause=_P("cause"),
        started_at=_P("started_at"),
        answered_at=_P("answered_at"),
        ended_at=_P("ended_at"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_CALLBACK_TRIED = (
    update(_TABLES["callbacks"])
    .where(_callbacks.id == _P("callback_id"), _callbacks.attempts < _P("attempt"))
    .values(
        attempts=_P("attempt"),
        last_outcome=_P("outcome"),
        due_at=func.coalesce(_P("next_due_at", type_=_callbacks.due_at.type), _callbacks.due_at),
    )
)
_CALLBACK_CLOSED = (
    update(_TABLES["callbacks"])
    .where(_callbacks.id == _P("callback_id"), _callbacks.done_at.is_(None))
    .values(
        status=_P("outcome"),
        done_at=_P("at"),
        done_by=_P("operator_id"),
    )
)
_CASE_CALLBACK_DUE = (
    update(_TABLES["cases"])
    .where(_cases.id == _P("case_id"), _cases.status == "open")
    .values(status="callback_due")
)
_OPERATOR_STATE = (
    insert(_TABLES["operator_state_changes"])
    .values(
        event_id=_P("event_id"),
        operator_id=_P("operator_id"),
        at=_P("at"),
        state=_P("state"),
        reason=_P("reason"),
        call_id=_P("call_id"),
    )
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(_TABLES["operator_state_changes"].c.id)
)
_operators = _TABLES["operators"].c
# The floor's state of an operator, unless something newer was written since: a pause set
# through the API a moment after a call ended must not be overwritten by the "ready" that
# the call's end recorded before it (and that the recorder writes after it).
_OPERATOR_NOW = (
    update(_TABLES["operators"])
    .where(_operators.id == _P("operator_id"), _operators.state_since <= _P("at"))
    .values(
        state=_P("state"),
        state_reason=_P("reason"),
        state_since=_P("at"),
        availability=func.coalesce(
            _P("availability", type_=_operators.availability.type), _operators.availability
        ),
    )
)
_CALL_ENDED = (
    update(_TABLES["calls"])
    .where(_calls.id == _P("call_id"), _calls.ended_at.is_(None))
    .values(
        ended_at=_P("at"),
        end_cause=_P("cause"),
        end_cause_txt=_P("cause_txt"),
        ended_by=_P("ended_by"),
    )
)


def _bind_names(stmt: UpdateBase) -> frozenset[str]:
    return frozenset(stmt.compile().params)  # the names are the same in every dialect


async def _run(conn: AsyncConnection, values: dict[str, Any], stmt: UpdateBase) -> Result[Any]:
    """Execute with only the statement's own parameters: any other key that matches a
    column name would silently become a SET or VALUES entry."""
    names = _BINDS.get(id(stmt))
    if names is None:
        names = _BINDS[id(stmt)] = _bind_names(stmt)
    return await conn.execute(stmt, {k: v for k, v in values.items() if k in names})


_BINDS: dict[int, frozenset[str]] = {}


async def apply(conn: AsyncConnection, op: Op) -> None:
    """Apply one operation inside the caller's transaction."""
    values = dict(op)
    run = partial(_run, conn, values)
    match op:
        case CallStarted():
            await run(_CALL_STARTED)
        case CallAnswered():
            await run(_CALL_ANSWERED)
        case CallIdentified():
            await run(_CALL_IDENTIFIED)
        case CaseOpened():
            await run(_CASE_OPENED)
            await run(_CALL_CASE)
        case CaseStep():
            await run(_CASE_STEP)
        case CallQueued():
            await run(_CALL_QUEUED)
            if op.overflow:
                await run(_CALL_OVERFLOWED)
        case CallConnected():
            await run(_CALL_CONNECTED)
            await run(_CASE_OWNED)
        case CaseOwned():
            await run(_CASE_OWNED)
        case CallBreached():
            await run(_CALL_BREACHED)
        case CallbackDue():
            await run(_CALLBACK)
            await run(_CASE_CALLBACK_DUE)
        case CallbackAttempted():
            await run(_ATTEMPT)
            await run(_CALLBACK_TRIED)
        case CallbackClosed():
            await run(_CALLBACK_CLOSED)
        case OperatorStateRecord():
            if (await run(_OPERATOR_STATE)).first() is not None:
                await run(_OPERATOR_NOW)
        case CallEnded():
            await run(_CALL_ENDED)
