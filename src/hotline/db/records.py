"""How each record (core.records) is written to PostgreSQL: one statement built once per
kind, bound to each operation's values, idempotent."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from sqlalchemy import Result, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

from hotline.core.records import (
    AlarmReceived,
    AlarmTied,
    CallAnswered,
    CallbackAttempted,
    CallbackClosed,
    CallbackDue,
    CallbackRenewed,
    CallBreached,
    CallConnected,
    CallEnded,
    CallIdentified,
    CallQueued,
    CallStarted,
    CaseClassified,
    CaseOpened,
    CaseOwned,
    CaseStep,
    LegSeen,
    Op,
    OperatorStateRecord,
    RecordingKept,
    SurveyAnswered,
    TaskDue,
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
_CASE_OWNED = (  # a closed case stays closed and keeps its owner: a new request is a new case
    update(_TABLES["cases"])
    .where(_cases.id == _P("case_id"), _cases.status != "closed")
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
_CALLBACK_RENEWED = (
    update(_TABLES["callbacks"])
    .where(_callbacks.id == _P("callback_id"), _callbacks.status == "pending")
    .values(due_at=func.least(_callbacks.due_at, _P("due_at", type_=_callbacks.due_at.type)))
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


_cases_t = _TABLES["cases"]
_CASE_CLASSIFIED = (
    update(_cases_t).where(_cases.id == _P("case_id")).values({"class": _P("case_class")})
)
_legs = _TABLES["emergency_legs"]
_LEG_TIMES = ("dialled_at", "answered_at", "acknowledged_at", "left_at")
_LEG_SEEN = (
    insert(_legs)
    .values(
        id=_P("leg_id"),
        case_id=_P("case_id"),
        call_id=_P("call_id"),
        channel_id=_P("channel_id"),
        role=_P("role"),
        label=_P("label"),
        number=_P("number"),
        tier=_P("tier"),
        attempt=_P("attempt"),
        dialled_at=_P("dialled_at"),
        answered_at=_P("answered_at"),
        acknowledged_at=_P("acknowledged_at"),
        left_at=_P("left_at"),
        end_cause=_P("end_cause"),
        end_reason=_P("end_reason"),
    )
    .on_conflict_do_update(
        index_elements=["id"],
        set_={
            **{t: func.coalesce(_legs.c[t], _P(t, type_=_legs.c[t].type)) for t in _LEG_TIMES},
            "end_cause": func.coalesce(
                _legs.c.end_cause, _P("end_cause", type_=_legs.c.end_cause.type)
            ),
            "end_reason": func.coalesce(
                _legs.c.end_reason, _P("end_reason", type_=_legs.c.end_reason.type)
            ),
        },
    )
)
_recordings = _TABLES["case_recordings"]
_RECORDING_KEPT = (
    insert(_recordings)
    .values(
        name=_P("name"),
        case_id=_P("case_id"),
        call_id=_P("call_id"),
        started_at=_P("started_at"),
        stopped_at=_P("stopped_at"),
    )
    .on_conflict_do_update(
        index_elements=["name"],
        set_={
            "stopped_at": func.coalesce(
                _recordings.c.stopped_at, _P("stopped_at", type_=_recordings.c.stopped_at.type)
            )
        },
    )
)
_TASK_DUE = (
    insert(_TABLES["case_tasks"])
    .values(
        id=_P("task_id"),
        case_id=_P("case_id"),
        kind=_P("kind"),
        due_at=_P("due_at"),
        owner_operator_id=_P("owner_operator_id"),
        created_at=_P("at"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_alarms = _TABLES["alarms"]
_ALARM_RECEIVED = (
    insert(_alarms)
    .values(
        id=_P("alarm_id"),
        received_at=_P("at"),
        case_id=_P("case_id"),
        **{
            c: _P(c)
            for c in (
                "ref",
                "caller_number",
                "device_type",
                "device_id",
                "status_code",
                "alarm_type",
                "priority",
                "location_code",
                "location_text",
                "latitude",
                "longitude",
            )
        },
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
_ALARM_TIED = (
    update(_alarms)
    .where(_alarms.c.id == _P("alarm_id"), _alarms.c.case_id.is_(None))
    .values(case_id=_P("case_id"))
)
_tasks = _TABLES["case_tasks"]
_surveys = _TABLES["survey_answers"]
# The provider is the organisation of the case's latest service order, if it had one.
_PROVIDER = (
    select(_tasks.c.org_id)
    .where(_tasks.c.case_id == _P("case_id"), _tasks.c.kind == "service_order")
    .order_by(_tasks.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
)
_SURVEY_ANSWERED = (
    insert(_surveys)
    .values(
        id=_P("survey_id"),
        case_id=_P("case_id"),
        call_id=_P("call_id"),
        org_id=_PROVIDER,
        operator_id=_P("operator_id"),
        asked_at=_P("asked_at"),
        outcome=_P("outcome"),
        score=_P("score"),
    )
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_surveys.c.id)
)
# A dissatisfied caller: the case goes back to its owner, in progress again (R20).
_CASE_REOPENED = (
    update(_cases_t)
    .where(_cases.id == _P("case_id"))
    .values(status="in_progress", closed_at=None, close_reason=None)
)
_DISSATISFIED_TASK = (
    insert(_tasks)
    .values(
        id=_P("task_id"),
        case_id=_P("case_id"),
        kind="dissatisfied",
        due_at=_P("reopen_due_at"),
        owner_operator_id=select(_cases.owner_operator_id)
        .where(_cases.id == _P("case_id"))
        .scalar_subquery(),
        created_at=_P("at"),
        detail=_P("task_detail", type_=_tasks.c.detail.type),
    )
    .on_conflict_do_nothing(index_elements=["id"])
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


_STATEMENTS: dict[type, tuple[UpdateBase, ...]] = {
    CallStarted: (_CALL_STARTED,),
    CallAnswered: (_CALL_ANSWERED,),
    CallIdentified: (_CALL_IDENTIFIED,),
    CaseOpened: (_CASE_OPENED, _CALL_CASE),
    CaseStep: (_CASE_STEP,),
    CallConnected: (_CALL_CONNECTED, _CASE_OWNED),
    CaseOwned: (_CASE_OWNED,),
    CallBreached: (_CALL_BREACHED,),
    CallbackDue: (_CALLBACK, _CASE_CALLBACK_DUE),
    CallbackAttempted: (_ATTEMPT, _CALLBACK_TRIED),
    CallbackClosed: (_CALLBACK_CLOSED,),
    CallbackRenewed: (_CALLBACK_RENEWED,),
    CallEnded: (_CALL_ENDED,),
    CaseClassified: (_CASE_CLASSIFIED,),
    LegSeen: (_LEG_SEEN,),
    RecordingKept: (_RECORDING_KEPT,),
    TaskDue: (_TASK_DUE,),
    AlarmReceived: (_ALARM_RECEIVED,),
    AlarmTied: (_ALARM_TIED,),
}
"""The statements of each kind of record, in order; the two conditional kinds below."""


async def apply(conn: AsyncConnection, op: Op) -> None:
    """Apply one operation inside the caller's transaction."""
    values = dict(op)
    run = partial(_run, conn, values)
    match op:
        case CallQueued():
            await run(_CALL_QUEUED)
            if op.overflow:
                await run(_CALL_OVERFLOWED)
        case OperatorStateRecord():
            if (await run(_OPERATOR_STATE)).first() is not None:
                await run(_OPERATOR_NOW)
        case SurveyAnswered():
            if (await run(_SURVEY_ANSWERED)).first() is not None and op.reopen_due_at:
                values["task_id"] = uuid.uuid5(op.survey_id, "dissatisfied")
                values["task_detail"] = {"survey_id": str(op.survey_id), "score": op.score}
                await run(_CASE_REOPENED)
                await run(_DISSATISFIED_TASK)
        case _:
            for statement in _STATEMENTS[type(op)]:
                await run(statement)
