"""What the call flow records, as idempotent operations.

Each operation can be applied twice with the same effect as once, so the recorder may
replay its spool after a database outage without duplicating anything.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import (
    Call,
    Callback,
    Case,
    CaseEvent,
    Operator,
    OperatorStateChange,
    Queue,
)

_NAMESPACE = uuid.UUID("5d1c2f46-7b0e-4c53-9a8e-2f6f0f1d9b21")


def call_id_for(linkedid: str) -> uuid.UUID:
    """The call's id, derived from Asterisk's linkedid so a restarted service finds it again."""
    return uuid.uuid5(_NAMESPACE, linkedid)


def intake_case_id_for(call_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(call_id, "intake-case")


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True)


class CallStarted(_Op):
    op: Literal["call_started"] = "call_started"
    call_id: uuid.UUID
    linkedid: str
    channel_id: str
    entry: str
    caller_number: str | None
    at: dt.datetime


class CallAnswered(_Op):
    op: Literal["call_answered"] = "call_answered"
    call_id: uuid.UUID
    at: dt.datetime


class CallIdentified(_Op):
    op: Literal["call_identified"] = "call_identified"
    call_id: uuid.UUID
    caller_kind: str
    elder_id: int | None
    contact_id: int | None


class CaseOpened(_Op):
    op: Literal["case_opened"] = "case_opened"
    case_id: uuid.UUID
    call_id: uuid.UUID
    at: dt.datetime
    channel: str
    case_class: str | None
    elder_id: int | None
    identified: bool


class CaseStep(_Op):
    op: Literal["case_step"] = "case_step"
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    case_id: uuid.UUID
    at: dt.datetime
    actor: str = "system"
    kind: str
    detail: dict[str, Any] = Field(default_factory=dict)


class CallEnded(_Op):
    op: Literal["call_ended"] = "call_ended"
    call_id: uuid.UUID
    at: dt.datetime
    cause: int | None
    cause_txt: str | None
    ended_by: str


class CallQueued(_Op):
    """The call waits in ``queue`` (again, after an overflow or transfer)."""

    op: Literal["call_queued"] = "call_queued"
    call_id: uuid.UUID
    queue: str
    priority: int
    at: dt.datetime
    overflow: bool = False


class CallConnected(_Op):
    """An operator answered: the first one owns the case (R14)."""

    op: Literal["call_connected"] = "call_connected"
    call_id: uuid.UUID
    case_id: uuid.UUID
    operator_id: int
    at: dt.datetime


class CallbackDue(_Op):
    op: Literal["callback_due"] = "callback_due"
    callback_id: uuid.UUID
    case_id: uuid.UUID
    call_id: uuid.UUID
    number: str | None
    reason: str
    waited_s: float | None
    at: dt.datetime


class OperatorState(_Op):
    op: Literal["operator_state"] = "operator_state"
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    operator_id: int
    state: str
    reason: str | None
    call_id: uuid.UUID | None
    at: dt.datetime


Op = Annotated[
    CallStarted
    | CallAnswered
    | CallIdentified
    | CaseOpened
    | CaseStep
    | CallEnded
    | CallQueued
    | CallConnected
    | CallbackDue
    | OperatorState,
    Field(discriminator="op"),
]
OP_ADAPTER: TypeAdapter[Op] = TypeAdapter(Op)


async def apply(conn: AsyncConnection, op: Op) -> None:
    """Apply one operation inside the caller's transaction."""
    match op:
        case CallStarted():
            await conn.execute(
                insert(Call)
                .values(
                    id=op.call_id,
                    linkedid=op.linkedid,
                    channel_id=op.channel_id,
                    entry=op.entry,
                    caller_number=op.caller_number,
                    started_at=op.at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        case CallAnswered():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id)
                .values(answered_at=func.coalesce(Call.answered_at, op.at))
            )
        case CallIdentified():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id)
                .values(caller_kind=op.caller_kind, elder_id=op.elder_id, contact_id=op.contact_id)
            )
        case CaseOpened():
            await conn.execute(
                insert(Case)
                .values(
                    id=op.case_id,
                    opened_at=op.at,
                    case_class=op.case_class,
                    status="open",
                    channel=op.channel,
                    elder_id=op.elder_id,
                    identified=op.identified,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            await conn.execute(update(Call).where(Call.id == op.call_id).values(case_id=op.case_id))
        case CaseStep():
            await conn.execute(
                insert(CaseEvent)
                .values(
                    id=op.event_id,
                    case_id=op.case_id,
                    at=op.at,
                    actor=op.actor,
                    kind=op.kind,
                    detail=op.detail,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        case CallQueued():
            values: dict[str, Any] = {
                "queue_id": select(Queue.id).where(Queue.name == op.queue).scalar_subquery(),
                "queued_at": func.coalesce(Call.queued_at, op.at),
                "priority": op.priority,
            }
            if op.overflow:
                values["overflowed_at"] = func.coalesce(Call.overflowed_at, op.at)
            await conn.execute(update(Call).where(Call.id == op.call_id).values(**values))
        case CallConnected():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id, Call.connected_at.is_(None))
                .values(connected_at=op.at, operator_id=op.operator_id)
            )
            await conn.execute(
                update(Case)
                .where(Case.id == op.case_id)
                .values(
                    owner_operator_id=func.coalesce(Case.owner_operator_id, op.operator_id),
                    status="in_progress",
                )
            )
        case CallbackDue():
            await conn.execute(
                insert(Callback)
                .values(
                    id=op.callback_id,
                    case_id=op.case_id,
                    call_id=op.call_id,
                    number=op.number,
                    reason=op.reason,
                    waited_s=op.waited_s,
                    created_at=op.at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            await conn.execute(
                update(Case)
                .where(Case.id == op.case_id, Case.status == "open")
                .values(status="callback_due")
            )
        case OperatorState():
            inserted = await conn.execute(
                insert(OperatorStateChange)
                .values(
                    event_id=op.event_id,
                    operator_id=op.operator_id,
                    at=op.at,
                    state=op.state,
                    reason=op.reason,
                    call_id=op.call_id,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(OperatorStateChange.id)
            )
            if inserted.first() is not None:
                await conn.execute(
                    update(Operator)
                    .where(Operator.id == op.operator_id)
                    .values(state=op.state, state_reason=op.reason, state_since=op.at)
                )
        case CallEnded():
            await conn.execute(
                update(Call)
                .where(Call.id == op.call_id, Call.ended_at.is_(None))
                .values(
                    ended_at=op.at,
                    end_cause=op.cause,
                    end_cause_txt=op.cause_txt,
                    ended_by=op.ended_by,
                )
            )
